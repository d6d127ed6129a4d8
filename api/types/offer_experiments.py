"""An offer's experiment as the API shows it (ADMIN only): its variants and its members' arms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from api.context import Info
from api.types.activity import Money
from api.types.ids import encode_id
from api.types.pagination import After, First, connection
from domain.experiments.model import Experiment


@strawberry.type(description="A variant of an offer's experiment (ADMIN): its weight and what it changes.")
class OfferVariant:
    key: str = strawberry.field(description="Its name in reports (ADMIN).")
    weight: int = strawberry.field(
        description="Its share of the non-holdout members, relative to the others."
    )
    name: str | None = strawberry.field(
        description="The message: the offer's name in this arm; null: unchanged."
    )
    points: int | None = strawberry.field(description="BONUS_POINTS in this arm; null: the offer's.")
    multiplier: Decimal | None = strawberry.field(
        description="POINTS_MULTIPLIER in this arm; null: the offer's."
    )
    percent: Decimal | None = strawberry.field(
        description="PERCENT_DISCOUNT or cashback percentage in this arm; null: the offer's."
    )
    amount: Money | None = strawberry.field(description="The amount off in this arm; null: the offer's.")


@strawberry.type(description="A member's arm in an offer's experiment (ADMIN).")
class ExperimentAssignment:
    member_id: relay.GlobalID = strawberry.field(description="The member (ADMIN).")
    arm: str = strawberry.field(description="The variant's key, or 'holdout' (ADMIN).")
    assigned_at: datetime = strawberry.field(description="When it was first evaluated for the offer (ADMIN).")


@strawberry.type(
    description="An offer's experiment (ADMIN only): a holdout share that is not offered it and variants "
    "that change its parameter or message; members are assigned by a hash of the experiment and member."
)
class OfferExperiment:
    experiment_id: int = strawberry.field(
        description="The offer version its arms were set at; new arms begin a new experiment (ADMIN)."
    )
    started_at: datetime = strawberry.field(description="When its arms were set (ADMIN).")
    holdout_share: int = strawberry.field(
        description="The holdout's share in basis points, 0 to 5000 (ADMIN)."
    )
    margin_rate: int = strawberry.field(
        description="The gross margin on spend its ROI counts, in basis points (ADMIN)."
    )
    variants: list[OfferVariant] = strawberry.field(description="Its variants, in order (ADMIN).")
    offer_id: strawberry.Private[int]

    @strawberry.field(description="The members' recorded arms, by member id (ADMIN).")
    async def assignments(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[ExperimentAssignment]:  # type: ignore[type-var]  # relay pages any type; its Node bound is for node(id) only
        async def fetch(position: int | None, limit: int) -> list[tuple[int, str, datetime]]:
            return await info.context.campaign_arms.assignment_page(
                self.offer_id, self.experiment_id, position, limit
            )

        return await connection(
            first=first,
            after=after,
            fetch=fetch,
            key=lambda row: row[0],
            node=lambda row: ExperimentAssignment(
                member_id=encode_id("Member", row[0]), arm=row[1], assigned_at=row[2]
            ),
        )

    @classmethod
    def from_domain(cls, offer_id: int, e: Experiment) -> OfferExperiment:
        return cls(
            experiment_id=e.id,
            started_at=e.started_at,
            holdout_share=e.holdout_bp,
            margin_rate=e.margin_bp,
            variants=[
                OfferVariant(
                    key=v.key,
                    weight=v.weight,
                    name=v.name,
                    points=v.points,
                    multiplier=v.multiplier,
                    percent=v.percent,
                    amount=None
                    if v.amount is None
                    else Money(amount_minor=v.amount.amount_minor, currency=v.amount.currency),
                )
                for v in e.variants
            ],
            offer_id=offer_id,
        )
