"""The delivery side of the outbox: fan-out of new events to the subscriptions that want them, and
the claim, success and failure of each delivery. Used by the worker (scripts/worker.py) and by the
admin operations (subscriptions, redelivery, the deliveries list).

- Dispatch: one worker at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite has one
  writer anyway) takes the oldest undispatched events, writes a PENDING delivery per matching
  subscription and marks the events dispatched, in one transaction. One at a time keeps deliveries
  in event order, which the per-member order check below relies on.
- Claim: due PENDING deliveries whose member has no earlier PENDING delivery to the same
  subscription (so a member's event n+1 waits until n is delivered or dead), locked with FOR UPDATE
  SKIP LOCKED so that concurrent workers take different ones; the claim pushes `next_attempt_at` on
  by a lease and commits. A worker killed mid-send leaves the delivery due again when the lease ends:
  nothing is lost, and the receiver may see the event twice (at least once; `webhook-id` is the
  event id, for its de-duplication).
- Signing secrets are stored sealed with the personal-data keys (`PERSONAL_DATA_KEYS`, rotated by
  `scripts/rotate-personal-data`), opened only when a claimed delivery is signed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from domain.webhooks import (
    SECRET_PREFIX,
    Delivery,
    DeliveryStatus,
    OwnerKind,
    Subscription,
    SubscriptionStatus,
    Transport,
)
from persistence.personal_data import PersonalDataVault, vault_for
from persistence.tables import outbox_events, webhook_deliveries, webhook_subscriptions

_DISPATCH_LOCK = 0x6C6F79616C7479  # any constant: the advisory lock that lets one dispatcher run at a time
# Written into the SQL, not bound: a prepared statement's generic plan (which PostgreSQL may settle
# on after a few runs) can use the partial indexes `WHERE status = 'PENDING'` only for the literal.
_PENDING = literal(DeliveryStatus.PENDING.value, literal_execute=True)
_LATER = aliased(webhook_deliveries)
_EARLIER = aliased(webhook_deliveries)


@dataclass(frozen=True, slots=True)
class Claimed:
    """One delivery taken by a worker, with what sending it needs."""

    delivery_id: int
    attempts: int  # counting this one
    event_id: str
    type: str
    version: int
    member_id: int | None
    occurred_at: datetime
    payload: dict[str, Any]
    subscription_id: int
    transport: Transport
    url: str
    secrets: tuple[str, ...]  # the current secret, then the previous one during a rotation


def subscription_of(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        transport=Transport(row.transport),
        url=row.url,
        event_types=tuple(row.event_types or ()),
        owner_kind=OwnerKind(row.owner_kind),
        owner_id=row.owner_id,
        description=row.description,
        status=SubscriptionStatus(row.status),
        created_at=row.created_at,
    )


class SqlDeliveryStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    # Subscriptions

    async def add_subscription(
        self, *, transport: Transport = Transport.WEBHOOK, **values: Any
    ) -> Subscription:
        async with self.engine.begin() as conn:
            return await add_subscription(conn, transport=transport, **values)

    async def subscription(self, subscription_id: int) -> Subscription | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
                )
            ).one_or_none()
        return None if row is None else subscription_of(row)

    async def subscriptions(self) -> list[Subscription]:
        async with self.engine.connect() as conn:
            found = await conn.execute(select(webhook_subscriptions).order_by(webhook_subscriptions.c.id))
        return [subscription_of(row) for row in found]

    async def ensure_nats(self, at: datetime) -> Subscription:
        """The NATS transport's subscription to every type, made on the worker's first start with
        NATS_URL: its deliveries keep order and retry like a webhook's."""
        for sub in await self.subscriptions():
            if sub.transport is Transport.NATS:
                return sub
        return await self.add_subscription(
            transport=Transport.NATS,
            url="loyalty.events",
            event_types=[],
            owner_kind=OwnerKind.APP,
            owner_id=None,
            description="NATS JetStream",
            secret="",
            at=at,
        )

    async def rotate_secret(
        self, subscription_id: int, new_secret: str, old_valid_until: datetime, at: datetime
    ) -> Subscription | None:
        async with self.engine.begin() as conn:
            return await rotate_secret(conn, subscription_id, new_secret, old_valid_until, at)

    # Dispatch

    async def dispatch(self, now: datetime, limit: int = 500) -> int:
        """Fan out up to `limit` new events; the number of events dispatched (0: none new, or another
        worker is dispatching)."""
        async with self.engine.begin() as conn:
            if self.postgres:
                got = await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _DISPATCH_LOCK})
                if not got.scalar():
                    return 0
            new = (
                await conn.execute(
                    select(outbox_events.c.id, outbox_events.c.type, outbox_events.c.member_id)
                    .where(~outbox_events.c.dispatched)
                    .order_by(outbox_events.c.id)
                    .limit(limit)
                )
            ).all()
            if not new:
                return 0
            subs = [
                subscription_of(row)
                for row in await conn.execute(
                    select(webhook_subscriptions).where(
                        webhook_subscriptions.c.status == SubscriptionStatus.ACTIVE.value
                    )
                )
            ]
            rows = [
                {
                    "event_seq": e.id,
                    "subscription_id": s.id,
                    "member_id": e.member_id,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for e in new
                for s in subs
                if s.wants(e.type)
            ]
            if rows:
                await conn.execute(insert(webhook_deliveries), rows)
            await conn.execute(
                update(outbox_events)
                .where(outbox_events.c.id.in_([e.id for e in new]))
                .values(dispatched=True)
            )
        return len(new)

    # Claim and outcome

    async def claim(
        self, now: datetime, limit: int, lease_seconds: float, skip: Collection[int] = ()
    ) -> list[Claimed]:
        """Take up to `limit` due deliveries for `lease_seconds`, none of subscriptions `skip` (those
        the worker is already busy with)."""
        vault = vault_for(self.engine)
        d, earlier = _LATER, _EARLIER
        blocked = exists().where(
            earlier.c.subscription_id == d.c.subscription_id,
            earlier.c.member_id == d.c.member_id,
            earlier.c.status == _PENDING,
            earlier.c.event_seq < d.c.event_seq,
        )
        due = (
            select(d.c.id)
            .join(webhook_subscriptions, webhook_subscriptions.c.id == d.c.subscription_id)
            .where(
                d.c.status == _PENDING,
                d.c.next_attempt_at <= now,
                webhook_subscriptions.c.status == SubscriptionStatus.ACTIVE.value,
                d.c.subscription_id.not_in(list(skip)) if skip else true(),
                ~blocked,
            )
            .order_by(d.c.id)
            .limit(limit)
            .with_for_update(of=d, skip_locked=True)
        )
        async with self.engine.begin() as conn:
            ids = list((await conn.execute(due)).scalars())
            if not ids:
                return []
            await conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id.in_(ids))
                .values(
                    next_attempt_at=now + timedelta(seconds=lease_seconds),
                    attempts=webhook_deliveries.c.attempts + 1,
                )
            )
            found = await conn.execute(
                select(
                    webhook_deliveries.c.id,
                    webhook_deliveries.c.attempts,
                    outbox_events.c.event_id,
                    outbox_events.c.type,
                    outbox_events.c.version,
                    outbox_events.c.member_id,
                    outbox_events.c.occurred_at,
                    outbox_events.c.payload,
                    webhook_subscriptions.c.id.label("subscription_id"),
                    webhook_subscriptions.c.transport,
                    webhook_subscriptions.c.url,
                    webhook_subscriptions.c.secret,
                    webhook_subscriptions.c.previous_secret,
                    webhook_subscriptions.c.previous_until,
                )
                .join(outbox_events, outbox_events.c.id == webhook_deliveries.c.event_seq)
                .join(
                    webhook_subscriptions, webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id
                )
                .where(webhook_deliveries.c.id.in_(ids))
                .order_by(webhook_deliveries.c.id)
            )
            claimed = [
                Claimed(
                    delivery_id=r.id,
                    attempts=r.attempts,
                    event_id=r.event_id,
                    type=r.type,
                    version=r.version,
                    member_id=r.member_id,
                    occurred_at=r.occurred_at,
                    payload=r.payload,
                    subscription_id=r.subscription_id,
                    transport=Transport(r.transport),
                    url=r.url,
                    secrets=_signing_secrets(vault, r.secret, r.previous_secret, r.previous_until, now),
                )
                for r in found
            ]
        return claimed

    async def delivered(self, delivery_ids: list[int], at: datetime, status_code: int | None) -> None:
        """A round's successes in one statement (their status codes differ only in the 2xx)."""
        if not delivery_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id.in_(delivery_ids))
                .values(
                    status=DeliveryStatus.DELIVERED.value,
                    delivered_at=at,
                    last_status_code=status_code,
                    last_error=None,
                )
            )

    async def release(self, delivery_id: int, now: datetime) -> None:
        """Give back a claimed delivery that was not sent: due at once, and the attempt its claim
        counted uncounted. Only a still-pending one: the lease has not ended, so it is still ours."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.id == delivery_id,
                    webhook_deliveries.c.status == _PENDING,
                )
                .values(next_attempt_at=now, attempts=webhook_deliveries.c.attempts - 1)
            )

    async def failed(
        self,
        delivery_id: int,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime,
        error: str,
        status_code: int | None,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(
                    status=status.value,
                    next_attempt_at=next_attempt_at,
                    last_error=error[:1000],
                    last_status_code=status_code,
                )
            )

    async def redeliver(self, event_id: str, subscription_id: int, now: datetime) -> Delivery | None:
        async with self.engine.begin() as conn:
            return await redeliver(conn, event_id, subscription_id, now)

    async def deliveries(
        self,
        status: DeliveryStatus | None = None,
        subscription_id: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[Delivery]:
        async with self.engine.connect() as conn:
            return await deliveries(conn, status, subscription_id, before_id, limit)

    async def counts(self) -> dict[DeliveryStatus, int]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(webhook_deliveries.c.status, func.count()).group_by(webhook_deliveries.c.status)
            )
            return {DeliveryStatus(s): n for s, n in found}

    async def oldest_waiting(self) -> datetime | None:
        """When the oldest event still waiting happened: not yet fanned out, or with a delivery still
        pending. Both minimums are read from partial indexes that hold only what waits."""
        e, d = outbox_events.c, webhook_deliveries.c
        first_new = select(func.min(e.id)).where(~e.dispatched).scalar_subquery()
        first_pending = select(func.min(d.event_seq)).where(d.status == _PENDING).scalar_subquery()
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(func.min(e.occurred_at)).where(or_(e.id == first_new, e.id == first_pending))
            )
            return found.scalar()

    async def undispatched(self) -> int:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(func.count()).select_from(outbox_events).where(~outbox_events.c.dispatched)
            )
            return int(found.scalar() or 0)


async def _deliveries(conn: AsyncConnection, where: Any, limit: int) -> list[Delivery]:
    found = await conn.execute(
        select(webhook_deliveries, outbox_events.c.event_id, outbox_events.c.type)
        .join(outbox_events, outbox_events.c.id == webhook_deliveries.c.event_seq)
        .where(where)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(bindparam("limit", limit))
    )
    return [
        Delivery(
            id=r.id,
            event_id=r.event_id,
            type=r.type,
            member_id=r.member_id,
            subscription_id=r.subscription_id,
            status=DeliveryStatus(r.status),
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            last_error=r.last_error,
            last_status_code=r.last_status_code,
            created_at=r.created_at,
            delivered_at=r.delivered_at,
        )
        for r in found
    ]


def _signing_secrets(
    vault: PersonalDataVault,
    secret: str,
    previous: str | None,
    previous_until: datetime | None,
    now: datetime,
) -> tuple[str, ...]:
    if previous and previous_until is not None and previous_until > now:
        return (open_secret(vault, secret), open_secret(vault, previous))
    return (open_secret(vault, secret),)


def open_secret(vault: PersonalDataVault, stored: str) -> str:
    """A stored signing secret in the clear. One stored before secrets were sealed is still plain
    (it has the secrets' prefix, which no sealed token has) until `scripts/rotate-personal-data`."""
    if not stored or stored.startswith(SECRET_PREFIX):
        return stored
    opened = vault.open(stored)
    assert opened is not None
    return opened


class SqlWebhookRepository:
    """The admins' side, in the unit of work's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add_subscription(
        self,
        *,
        url: str,
        event_types: list[str],
        owner_kind: OwnerKind,
        owner_id: int | None,
        description: str | None,
        secret: str,
        at: datetime,
    ) -> Subscription:
        return await add_subscription(
            self.conn,
            transport=Transport.WEBHOOK,
            url=url,
            event_types=event_types,
            owner_kind=owner_kind,
            owner_id=owner_id,
            description=description,
            secret=secret,
            at=at,
        )

    async def subscription(self, subscription_id: int) -> Subscription | None:
        row = (
            await self.conn.execute(
                select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
            )
        ).one_or_none()
        return None if row is None else subscription_of(row)

    async def subscriptions(self) -> list[Subscription]:
        found = await self.conn.execute(select(webhook_subscriptions).order_by(webhook_subscriptions.c.id))
        return [subscription_of(row) for row in found]

    async def update_subscription(
        self,
        subscription_id: int,
        *,
        url: str | None,
        event_types: list[str] | None,
        description: str | None,
        status: SubscriptionStatus | None,
        at: datetime,
    ) -> Subscription | None:
        changes: dict[str, Any] = {"updated_at": at}
        if url is not None:
            changes["url"] = url
        if event_types is not None:
            changes["event_types"] = event_types
        if description is not None:
            changes["description"] = description
        if status is not None:
            changes["status"] = status.value
        row = (
            await self.conn.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.id == subscription_id)
                .values(**changes)
                .returning(webhook_subscriptions)
            )
        ).one_or_none()
        return None if row is None else subscription_of(row)

    async def rotate_secret(
        self, subscription_id: int, new_secret: str, old_valid_until: datetime, at: datetime
    ) -> Subscription | None:
        return await rotate_secret(self.conn, subscription_id, new_secret, old_valid_until, at)

    async def redeliver(self, event_id: str, subscription_id: int, at: datetime) -> Delivery | None:
        return await redeliver(self.conn, event_id, subscription_id, at)

    async def deliveries(
        self,
        status: DeliveryStatus | None,
        subscription_id: int | None,
        before_id: int | None,
        limit: int,
    ) -> list[Delivery]:
        return await deliveries(self.conn, status, subscription_id, before_id, limit)


async def add_subscription(
    conn: AsyncConnection,
    *,
    transport: Transport,
    url: str,
    event_types: list[str],
    owner_kind: OwnerKind,
    owner_id: int | None,
    description: str | None,
    secret: str,
    at: datetime,
) -> Subscription:
    values = {
        "transport": transport.value,
        "url": url,
        "event_types": event_types,
        "owner_kind": owner_kind.value,
        "owner_id": owner_id,
        "description": description,
        "secret": vault_for(conn.engine).seal(secret) if secret else secret,
        "status": SubscriptionStatus.ACTIVE.value,
        "created_at": at,
        "updated_at": at,
    }
    row = (
        await conn.execute(insert(webhook_subscriptions).values(values).returning(webhook_subscriptions))
    ).one()
    return subscription_of(row)


async def rotate_secret(
    conn: AsyncConnection, subscription_id: int, new_secret: str, old_valid_until: datetime, at: datetime
) -> Subscription | None:
    row = (
        await conn.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(
                previous_secret=webhook_subscriptions.c.secret,
                previous_until=old_valid_until,
                secret=vault_for(conn.engine).seal(new_secret),
                updated_at=at,
            )
            .returning(webhook_subscriptions)
        )
    ).one_or_none()
    return None if row is None else subscription_of(row)


async def redeliver(
    conn: AsyncConnection, event_id: str, subscription_id: int, now: datetime
) -> Delivery | None:
    event = (
        await conn.execute(
            select(outbox_events.c.id, outbox_events.c.member_id).where(outbox_events.c.event_id == event_id)
        )
    ).one_or_none()
    if event is None:
        return None
    changed = await conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.event_seq == event.id,
            webhook_deliveries.c.subscription_id == subscription_id,
        )
        .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now, delivered_at=None)
    )
    if changed.rowcount == 0:
        await conn.execute(
            insert(webhook_deliveries).values(
                event_seq=event.id,
                subscription_id=subscription_id,
                member_id=event.member_id,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    [delivery] = await _deliveries(
        conn,
        and_(
            webhook_deliveries.c.event_seq == event.id,
            webhook_deliveries.c.subscription_id == subscription_id,
        ),
        1,
    )
    return delivery


async def deliveries(
    conn: AsyncConnection,
    status: DeliveryStatus | None,
    subscription_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[Delivery]:
    conditions = []
    if status is not None:
        conditions.append(webhook_deliveries.c.status == status.value)
    if subscription_id is not None:
        conditions.append(webhook_deliveries.c.subscription_id == subscription_id)
    if before_id is not None:
        conditions.append(webhook_deliveries.c.id < before_id)
    return await _deliveries(conn, and_(True, *conditions), limit)
