"""Notifications: deciding on one notice (domain/notifications.py's rules), recording it, and
emitting `notification.requested` in the same transaction; and the pre-expiry notices job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import events
from domain.clock import Clock
from domain.members import Member, MemberStatus
from domain.notifications import CAP_WINDOW, Decision, NotificationKind, decide
from domain.ports import UnitOfWork
from domain.programme import Programme

BATCH = 500


async def notify(
    uow: UnitOfWork,
    member: Member,
    programme: Programme,
    kind: NotificationKind,
    template: str,
    parameters: dict[str, object],
    key: str,
    now: datetime,
) -> Decision | None:
    """Inside an open unit of work: decide on the notice, record it under `key` (once only), and when
    it is sent add its event. None when a notice with this key was decided on before."""
    sent = 0
    if kind.category.value == "MARKETING":
        sent = await uow.notifications.marketing_sent_since(member.id, now - CAP_WINDOW)
    decision = decide(
        kind,
        active=member.status is MemberStatus.ACTIVE,
        consent=member.marketing_consent,
        time_zone=member.profile.time_zone,
        now=now,
        marketing_sent_this_week=sent,
        settings=programme.notification_settings,
    )
    notification_id = await uow.notifications.record(member.id, kind, template, key, decision.reason, now)
    if notification_id is None:
        return None
    if decision.send:
        await uow.outbox.add(
            events.notification_requested(
                member_id=member.id,
                notification_id=notification_id,
                kind=kind.value,
                category=kind.category.value,
                template=template,
                parameters=parameters,
                not_before=decision.not_before,
                at=now,
            )
        )
    return decision


@dataclass(frozen=True, slots=True)
class NoticeRun:
    sent: int
    suppressed: int


async def run_expiry_notices(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, progress: Callable[[int], None] | None = None
) -> NoticeRun:
    """One notice per member and expiry day, `expiry_notice_days` before the day: a member whose lots
    expire within that many days from now is told once (its key is the member and the day), however
    often the job runs, and by two runs at once."""
    now = clock.now()
    sent = suppressed = 0
    after = 0
    async with (uow := uow_factory()):
        programme = await uow.programme.get()
    until = now + timedelta(days=programme.expiry_notice_days)
    while True:
        async with (uow := uow_factory()):
            batch = await uow.notifications.expiring(now, until, after, BATCH)
        if not batch:
            return NoticeRun(sent, suppressed)
        async with (uow := uow_factory()):
            for lots in batch:
                member = await uow.members.get(lots.member_id)
                if member is None:
                    continue
                day = lots.expires_on.isoformat()
                decision = await notify(
                    uow,
                    member,
                    programme,
                    NotificationKind.POINTS_EXPIRING,
                    "points_expiring",
                    {"points": lots.points, "expiresOn": day},
                    f"expiry:{member.id}:{day}",
                    now,
                )
                if decision is not None:
                    sent += decision.send
                    suppressed += not decision.send
            await uow.commit()
        after = batch[-1].member_id
        if progress is not None:
            progress(len({lots.member_id for lots in batch}))
