from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import AlreadyExists
from domain.members import Contact, Member, MemberStatus, Profile
from persistence import mapping
from persistence.catalogue import PROGRAMME_ID, Catalogue
from persistence.constraints import is_unique_violation
from persistence.personal_data import PersonalDataVault
from persistence.tables import member_balances, members, programme

# Built once: every earn reads it. The catalogue version rides along, which spares the unit of
# work a round trip when it then needs the programme's settings or a merchant.
_CATALOGUE_VERSION = (
    select(programme.c.catalogue_version).where(programme.c.id == PROGRAMME_ID).scalar_subquery()
)
_BY_ID = (
    select(
        members,
        member_balances.c.dormant_since,
        member_balances.c.last_activity_at,
        _CATALOGUE_VERSION.label("catalogue_version"),
    )
    .join(member_balances, member_balances.c.member_id == members.c.id)
    .where(members.c.id == bindparam("id"))
)


# The dormancy job: awake ACTIVE members whose last activity is old, along the partial index on
# last_activity_at. Rows a transaction holds (a member acting now) are skipped, not waited for;
# SQLite renders no lock and needs none (one writer at a time).
_TO_MARK_DORMANT = (
    select(member_balances.c.member_id)
    .join(members, members.c.id == member_balances.c.member_id)
    .where(
        member_balances.c.dormant_since.is_(None),
        member_balances.c.last_activity_at <= bindparam("inactive_since"),
        members.c.status == MemberStatus.ACTIVE.value,
    )
    .limit(bindparam("limit"))
    .with_for_update(of=member_balances, skip_locked=True)
)
_MARK_DORMANT = (
    update(member_balances)
    .where(
        member_balances.c.member_id.in_(_TO_MARK_DORMANT.scalar_subquery()),
        member_balances.c.dormant_since.is_(None),
        member_balances.c.last_activity_at <= bindparam("inactive_since"),
    )
    .values(dormant_since=bindparam("now"))
    .returning(member_balances.c.member_id)
)


class SqlMemberRepository:
    def __init__(self, conn: AsyncConnection, catalogue: Catalogue, vault: PersonalDataVault) -> None:
        self.conn = conn
        self.catalogue = catalogue
        self.vault = vault

    async def _one(self, *where: object) -> Member | None:
        statement = select(members, member_balances.c.dormant_since, member_balances.c.last_activity_at).join(
            member_balances, member_balances.c.member_id == members.c.id
        )
        row = (await self.conn.execute(statement.where(*where))).first()  # type: ignore[arg-type]  # clauses built above
        return mapping.member(row, self.vault) if row else None

    async def get(self, member_id: int) -> Member | None:
        row = (await self.conn.execute(_BY_ID, {"id": member_id})).first()
        if row is None:
            return None
        self.catalogue.observe(row.catalogue_version)
        return mapping.member(row, self.vault)

    async def get_by_external_ref(self, external_ref: str) -> Member | None:
        return await self._one(members.c.external_ref == external_ref)

    async def get_by_referral_code(self, referral_code: str) -> Member | None:
        return await self._one(members.c.referral_code == referral_code)

    async def add(
        self,
        *,
        external_ref: str,
        profile: Profile,
        contact: Contact,
        referral_code: str,
        referred_by: int | None,
        at: datetime,
    ) -> Member:
        draft = Member(
            id=0,
            external_ref=external_ref,
            status=MemberStatus.ACTIVE,
            referral_code=referral_code,
            enrolled_at=at,
            profile=profile,
            contact=contact,
            referred_by=referred_by,
        )
        values = mapping.member_values(draft, self.vault)
        try:
            member_id = (
                await self.conn.execute(insert(members).values(values).returning(members.c.id))
            ).scalar_one()
        except IntegrityError as exc:  # a concurrent enrolment of the same externalRef committed first
            if is_unique_violation(exc, members.c.external_ref):
                raise AlreadyExists(
                    "a member with this externalRef is already enrolled", ("externalRef",)
                ) from exc
            raise
        await self.conn.execute(
            insert(member_balances).values(
                member_id=member_id,
                available=0,
                pending=0,
                held=0,
                lifetime_earned=0,
                lifetime_redeemed=0,
                debt=0,
                last_activity_at=at,  # enrolment starts the dormancy clock
            )
        )
        return replace(draft, id=member_id)

    async def set_status(self, member_id: int, status: MemberStatus, reason: str | None) -> None:
        await self.conn.execute(
            update(members).where(members.c.id == member_id).values(status=status.value, status_reason=reason)
        )

    async def erase(self, member_id: int, *, pseudonym: str, referral_code: str) -> None:
        await self.conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(
                external_ref=pseudonym,
                referral_code=referral_code,
                status=MemberStatus.ERASED.value,
                status_reason="personal data erased",
                birth_year=None,
                region=None,
                income_band=None,
                tags=[],
                time_zone=None,
                phone_encrypted=None,
                email_encrypted=None,
                phone_lookup=None,
                email_lookup=None,
            )
        )

    async def update_profile(
        self,
        member_id: int,
        *,
        profile: Profile,
        contact: Contact,
        marketing_consent: bool,
        marketing_consent_at: datetime | None,
    ) -> None:
        await self.conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(
                birth_year=profile.birth_year,
                region=profile.region,
                income_band=profile.income_band.value if profile.income_band else None,
                tags=list(profile.tags),
                time_zone=profile.time_zone,
                **mapping.contact_values(contact, self.vault),
                marketing_consent=marketing_consent,
                marketing_consent_at=marketing_consent_at,
            )
        )

    async def close(
        self, member_id: int, *, reason: str, at: datetime, points_forfeit_at: datetime | None
    ) -> None:
        await self.conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(
                status=MemberStatus.CLOSED.value,
                status_reason=reason,
                closed_at=at,
                points_forfeit_at=points_forfeit_at,
            )
        )

    async def reopen(self, member_id: int, reason: str) -> None:
        await self.conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(
                status=MemberStatus.ACTIVE.value, status_reason=reason, closed_at=None, points_forfeit_at=None
            )
        )

    async def forfeit_due(self, now: datetime, after: int, limit: int) -> list[int]:
        rows = await self.conn.execute(
            select(members.c.id)
            .where(
                members.c.points_forfeit_at <= now,
                members.c.status == MemberStatus.CLOSED.value,
                members.c.id > after,
            )
            .order_by(members.c.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def points_forfeited(self, member_id: int) -> None:
        await self.conn.execute(
            update(members).where(members.c.id == member_id).values(points_forfeit_at=None)
        )

    async def record_activity(self, member_id: int, at: datetime) -> None:
        await self.conn.execute(
            update(member_balances)
            .where(member_balances.c.member_id == member_id)
            .values(last_activity_at=at, dormant_since=None)
        )

    async def mark_dormant(self, inactive_since: datetime, now: datetime, limit: int) -> list[int]:
        result = await self.conn.execute(
            _MARK_DORMANT, {"inactive_since": inactive_since, "now": now, "limit": limit}
        )
        return sorted(result.scalars())
