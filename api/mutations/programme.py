"""The programme's settings: read by anyone signed in, changed by an admin (audited)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.payload import run_use_case
from api.permissions import ADMIN, AUTHENTICATED
from api.types.enums import describe_values
from domain import programme as dp
from domain.services.programme import UpdateProgramme, update_programme

strawberry.enum(
    dp.ExpiryPolicy, name="ExpiryPolicy", description="How a lot's expiry date follows from its validity."
)
describe_values(
    dp.ExpiryPolicy,
    {
        dp.ExpiryPolicy.FIXED_MONTHS: "pointsValidityMonths after it was earned, to the day.",
        dp.ExpiryPolicy.END_OF_MONTH: "The end of the month reached pointsValidityMonths after earning.",
        dp.ExpiryPolicy.END_OF_YEAR: "The end of the year reached pointsValidityMonths after earning.",
    },
)
ExpiryPolicy = dp.ExpiryPolicy
strawberry.enum(
    dp.ClosurePolicy,
    name="ClosurePolicy",
    description="What becomes of a member's available points when it closes its account.",
)
describe_values(
    dp.ClosurePolicy,
    {
        dp.ClosurePolicy.FORFEIT: "They are forfeited to breakage at once.",
        dp.ClosurePolicy.KEEP: "They stay for closureGraceDays, while an admin may reopen the account; "
        "then they are forfeited.",
    },
)
ClosurePolicy = dp.ClosurePolicy


@strawberry.type(description="What one point is worth in a currency (statements value points with it).")
class PointValue:
    currency: str = strawberry.field(description="ISO 4217 code.")
    value: str = strawberry.field(description="One point in currency units, a decimal (CNY 0.01: one fen).")


@strawberry.input(description="What one point is worth in a currency the programme accepts.")
class PointValueInput:
    currency: str = strawberry.field(description="ISO 4217 code of an accepted currency.")
    value: str = strawberry.field(description="A decimal from 0 to 1000, at most 6 decimal places.")


@strawberry.type(description="How the programme runs the points lifecycle.")
class ProgrammeSettings:
    name: str = strawberry.field(description="The programme's name.")
    points_validity_months: int = strawberry.field(description="How long earned points stay valid.")
    expiry_policy: ExpiryPolicy = strawberry.field(
        description="How a lot's expiry date is set from its validity."
    )
    pending_days: int = strawberry.field(description="The return window: points stay pending this long.")
    transfer_limit_per_month: int = strawberry.field(
        description="Points one member may give others per calendar month."
    )
    hold_minutes: int = strawberry.field(description="How long a POS authorization holds points.")
    dormant_after_days: int = strawberry.field(
        description="Days without activity after which a member becomes DORMANT."
    )
    tier_window_months: int = strawberry.field(
        description="The rolling window qualifying points and spend count in."
    )
    tier_grace_days: int = strawberry.field(description="Days a member below its tier keeps it.")
    voucher_valid_days: int = strawberry.field(
        description="Days a redeemed reward's voucher may be used; unused, its points then come back."
    )
    closure_policy: ClosurePolicy = strawberry.field(
        description="What closing an account does to its available points."
    )
    closure_grace_days: int = strawberry.field(
        description="Under the KEEP policy, days a closed member's points wait before they are forfeited."
    )
    expiry_notice_days: int = strawberry.field(
        description="Days before points expire that the member is told (POINTS_EXPIRING notices)."
    )
    marketing_per_week: int = strawberry.field(
        description="At most this many marketing notifications to a member in any 7 days."
    )
    quiet_hours_start: str = strawberry.field(
        description="Local time (HH:MM, the member's time zone) its quiet hours start: no marketing then."
    )
    quiet_hours_end: str = strawberry.field(description="Local time (HH:MM) its quiet hours end.")
    sign_up_nudge_days: int = strawberry.field(
        description="Days after enrolment without a purchase before member.no_purchase is told."
    )
    currencies: list[str] = strawberry.field(description="ISO 4217 codes purchases may be in.")
    point_values: list[PointValue] = strawberry.field(
        description="What one point is worth, per currency that has a value set."
    )

    @classmethod
    def from_domain(cls, p: dp.Programme) -> ProgrammeSettings:
        return cls(
            name=p.name,
            points_validity_months=p.points_validity_months,
            expiry_policy=p.expiry_policy,
            pending_days=p.pending_days,
            transfer_limit_per_month=p.transfer_limit_per_month,
            hold_minutes=p.hold_minutes,
            dormant_after_days=p.dormant_after_days,
            tier_window_months=p.tier_window_months,
            tier_grace_days=p.tier_grace_days,
            voucher_valid_days=p.voucher_valid_days,
            closure_policy=p.closure_policy,
            closure_grace_days=p.closure_grace_days,
            expiry_notice_days=p.expiry_notice_days,
            marketing_per_week=p.marketing_per_week,
            quiet_hours_start=p.quiet_hours_start.strftime("%H:%M"),
            quiet_hours_end=p.quiet_hours_end.strftime("%H:%M"),
            sign_up_nudge_days=p.sign_up_nudge_days,
            currencies=sorted(p.currencies),
            point_values=[PointValue(currency=c, value=str(v)) for c, v in sorted(p.point_values.items())],
        )


@strawberry.input(description="Only the settings given change; they apply to what happens from now on.")
class UpdateProgrammeInput:
    points_validity_months: int | None = strawberry.field(
        default=None, description="How long earned points stay valid."
    )
    expiry_policy: ExpiryPolicy | None = strawberry.field(
        default=None, description="How a lot's expiry date is set from its validity."
    )
    pending_days: int | None = strawberry.field(
        default=None, description="The return window: points stay pending this long."
    )
    transfer_limit_per_month: int | None = strawberry.field(
        default=None, description="Points one member may give others per calendar month."
    )
    hold_minutes: int | None = strawberry.field(
        default=None, description="How long a POS authorization holds points."
    )
    dormant_after_days: int | None = strawberry.field(
        default=None, description="Days without activity after which a member becomes DORMANT."
    )
    tier_window_months: int | None = strawberry.field(
        default=None, description="The rolling window qualifying points and spend count in."
    )
    tier_grace_days: int | None = strawberry.field(
        default=None, description="Days a member below its tier keeps it."
    )
    voucher_valid_days: int | None = strawberry.field(
        default=None, description="Days a voucher issued from now on may be used (1 to 365)."
    )
    closure_policy: ClosurePolicy | None = strawberry.field(
        default=None, description="What closing an account does to its available points."
    )
    closure_grace_days: int | None = strawberry.field(
        default=None, description="Under KEEP, days a closed member's points wait (1 to 365)."
    )
    expiry_notice_days: int | None = strawberry.field(
        default=None, description="Days before points expire that members are told (1 to 90)."
    )
    marketing_per_week: int | None = strawberry.field(
        default=None, description="Marketing notifications a member may get in any 7 days (0 to 100)."
    )
    quiet_hours_start: str | None = strawberry.field(
        default=None, description="HH:MM, in each member's time zone; equal to the end: no quiet hours."
    )
    quiet_hours_end: str | None = strawberry.field(default=None, description="HH:MM, local.")
    sign_up_nudge_days: int | None = strawberry.field(
        default=None, description="Days without a purchase after enrolment before the nudge (1 to 365)."
    )
    point_values: list[PointValueInput] | None = strawberry.field(
        default=None, description="What one point is worth, per currency named; others keep theirs."
    )


@strawberry.type(description="The settings as they now stand, or why nothing changed.")
class UpdateProgrammePayload:
    programme: ProgrammeSettings | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class ProgrammeQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED, description="The programme's settings (any authenticated caller)."
    )
    async def programme(self, info: Info) -> ProgrammeSettings:
        return ProgrammeSettings.from_domain(await info.context.reader.programme())


@strawberry.type
class ProgrammeMutations:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Change the programme's settings; audited (ADMIN)."
    )
    async def update_programme(
        self,
        info: Info,
        input: Annotated[UpdateProgrammeInput, strawberry.argument(description="The settings to change.")],
    ) -> UpdateProgrammePayload:
        command = UpdateProgramme(
            points_validity_months=input.points_validity_months,
            expiry_policy=input.expiry_policy,
            pending_days=input.pending_days,
            transfer_limit_per_month=input.transfer_limit_per_month,
            hold_minutes=input.hold_minutes,
            dormant_after_days=input.dormant_after_days,
            tier_window_months=input.tier_window_months,
            tier_grace_days=input.tier_grace_days,
            voucher_valid_days=input.voucher_valid_days,
            closure_policy=input.closure_policy,
            closure_grace_days=input.closure_grace_days,
            expiry_notice_days=input.expiry_notice_days,
            marketing_per_week=input.marketing_per_week,
            quiet_hours_start=input.quiet_hours_start,
            quiet_hours_end=input.quiet_hours_end,
            sign_up_nudge_days=input.sign_up_nudge_days,
            point_values=tuple((v.currency, v.value) for v in input.point_values or ()),
        )
        programme, errors = await run_use_case(
            info, lambda actor, uow, clock: update_programme(command, actor=actor, uow=uow, clock=clock)
        )
        return UpdateProgrammePayload(
            programme=ProgrammeSettings.from_domain(programme) if programme else None, errors=errors
        )
