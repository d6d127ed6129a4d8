"""One-time redemption codes, stored as hashes; using one is a single conditional UPDATE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.tables import redemption_codes


def _add(insert: Any) -> Any:
    return (
        insert(redemption_codes)
        .values(
            member_id=bindparam("member_id"),
            code_hash=bindparam("code_hash"),
            expires_at=bindparam("expires_at"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["code_hash"])
        .returning(redemption_codes.c.id)
    )


_ADD = {"postgresql": _add(postgresql.insert), "sqlite": _add(sqlite.insert)}
# Unused and unexpired, in the statement itself: of two racing uses of one code, the second waits
# for the first's row lock and then no longer matches.
_USE = (
    update(redemption_codes)
    .where(
        redemption_codes.c.code_hash == bindparam("b_code_hash"),
        redemption_codes.c.used_at.is_(None),
        redemption_codes.c.expires_at > bindparam("b_now"),
    )
    .values(used_at=bindparam("b_used_at"))
    .returning(redemption_codes.c.member_id)
)


_USE_FOR_PURCHASE = (
    update(redemption_codes)
    .where(
        redemption_codes.c.code_hash == bindparam("b_code_hash"),
        redemption_codes.c.earned_at.is_(None),
        redemption_codes.c.expires_at > bindparam("b_now"),
    )
    .values(earned_at=bindparam("b_used_at"))
    .returning(redemption_codes.c.member_id)
)
_HOLDER = select(redemption_codes.c.member_id).where(
    redemption_codes.c.code_hash == bindparam("b_code_hash"),
    redemption_codes.c.earned_at.is_(None),
    redemption_codes.c.expires_at > bindparam("b_now"),
)


class SqlRedemptionCodeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, member_id: int, code_hash: str, expires_at: datetime, at: datetime) -> bool:
        result = await self.conn.execute(
            _ADD[self.conn.dialect.name],
            {"member_id": member_id, "code_hash": code_hash, "expires_at": expires_at, "created_at": at},
        )
        return result.first() is not None

    async def use(self, code_hash: str, now: datetime) -> int | None:
        return await self._member(_USE, code_hash, now)

    async def use_for_purchase(self, code_hash: str, now: datetime) -> int | None:
        return await self._member(_USE_FOR_PURCHASE, code_hash, now)

    async def holder(self, code_hash: str, now: datetime) -> int | None:
        return await self._member(_HOLDER, code_hash, now)

    async def _member(self, statement: Any, code_hash: str, now: datetime) -> int | None:
        params = {"b_code_hash": code_hash, "b_now": now, "b_used_at": now}
        member_id = (await self.conn.execute(statement, params)).scalar()
        return None if member_id is None else int(member_id)
