"""The lifecycle rules members' profiles are staged by: read by admins, changed by an admin (audited)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import ADMIN
from domain import profiles as dp
from domain.services.profiles import update_lifecycle_rules


@strawberry.type(description="The thresholds, in days, that put a member in its lifecycle stage (ADMIN).")
class LifecycleRules:
    new_member_days: int = strawberry.field(description="A member is NEW for this long after enrolling.")
    at_risk_after_days: int = strawberry.field(description="AT_RISK after this long without a purchase.")
    dormant_after_days: int = strawberry.field(description="DORMANT after this long without a purchase.")
    churned_after_days: int = strawberry.field(
        description="CHURNED after this long without a purchase; at most 365."
    )

    @classmethod
    def from_domain(cls, r: dp.LifecycleRules) -> LifecycleRules:
        return cls(
            new_member_days=r.new_member_days,
            at_risk_after_days=r.at_risk_after_days,
            dormant_after_days=r.dormant_after_days,
            churned_after_days=r.churned_after_days,
        )


@strawberry.input(
    description="All four thresholds, in days: 0 <= newMemberDays <= 365 and "
    "0 < atRiskAfterDays < dormantAfterDays < churnedAfterDays <= 365."
)
class UpdateLifecycleRulesInput:
    new_member_days: int = strawberry.field(description="A member is NEW for this long after enrolling.")
    at_risk_after_days: int = strawberry.field(description="AT_RISK after this long without a purchase.")
    dormant_after_days: int = strawberry.field(description="DORMANT after this long without a purchase.")
    churned_after_days: int = strawberry.field(description="CHURNED after this long without a purchase.")


@strawberry.type(description="The rules as they now stand, or why nothing changed.")
class UpdateLifecycleRulesPayload:
    lifecycle_rules: LifecycleRules | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class ProfileQueries:
    @strawberry.field(permission_classes=ADMIN, description="The lifecycle stage thresholds (ADMIN).")
    async def lifecycle_rules(self, info: Info) -> LifecycleRules:
        return LifecycleRules.from_domain(await info.context.reader.lifecycle_rules())


@strawberry.type
class ProfileMutations:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Replace the lifecycle stage thresholds; members' stages follow at once; audited "
        "(ADMIN).",
    )
    async def update_lifecycle_rules(
        self,
        info: Info,
        input: Annotated[UpdateLifecycleRulesInput, strawberry.argument(description="The new thresholds.")],
    ) -> UpdateLifecycleRulesPayload:
        rules = dp.LifecycleRules(
            input.new_member_days,
            input.at_risk_after_days,
            input.dormant_after_days,
            input.churned_after_days,
        )
        updated, errors = await run_use_case(
            info, lambda actor, uow, clock: update_lifecycle_rules(rules, actor=actor, uow=uow, clock=clock)
        )
        return UpdateLifecycleRulesPayload(
            lifecycle_rules=LifecycleRules.from_domain(updated) if updated else None, errors=errors
        )
