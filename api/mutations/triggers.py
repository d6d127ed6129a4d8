"""Triggered campaigns for admins: create, update, pause and resume triggers, list them, and see
which notices the notification rules stopped (README, "Notifications and triggered campaigns")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from api.context import Info
from api.errors import UserError
from api.mutations.payload import retrying, run_use_case
from api.permissions import ADMIN
from api.types.enums import MerchantCategory
from api.types.ids import decode_id
from api.types.triggers import (
    NotificationKind,
    NotificationSuppression,
    Trigger,
    TriggerActionKind,
    TriggerConditionKind,
)
from domain import triggers as dt
from domain.errors import Validation
from domain.events import EventType
from domain.services import triggers as service


@strawberry.input(description="One test of the condition (ADMIN).")
class TriggerConditionInput:
    kind: TriggerConditionKind = strawberry.field(description="What it tests.")
    segment_id: relay.GlobalID | None = strawberry.field(default=None, description="IN_SEGMENT: the segment.")
    category: MerchantCategory | None = strawberry.field(
        default=None, description="PURCHASE_CATEGORY and FIRST_IN_CATEGORY: the category."
    )
    threshold: int | None = strawberry.field(default=None, description="BALANCE_CROSSES: the points.")


@strawberry.input(description="One thing to do when the trigger fires (ADMIN).")
class TriggerActionInput:
    kind: TriggerActionKind = strawberry.field(description="What to do.")
    offer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="ISSUE_COUPON and AWARD_POINTS: the offer; NOTIFY: an offer to suggest."
    )
    template: str | None = strawberry.field(default=None, description="NOTIFY: the gateway's template key.")
    notification: NotificationKind = strawberry.field(
        default=NotificationKind.CAMPAIGN, description="NOTIFY: OFFER_RECOMMENDED or CAMPAIGN."
    )


@strawberry.input(description="A trigger's definition (ADMIN).")
class TriggerDefinitionInput:
    name: str = strawberry.field(description="What it is for.")
    event_type: str = strawberry.field(description="The event type it reacts to, e.g. purchase.posted.")
    conditions: list[TriggerConditionInput] = strawberry.field(description="All must hold; empty: always.")
    actions: list[TriggerActionInput] = strawberry.field(description="One to three, done in order.")


@strawberry.input(description="A new trigger (ADMIN).")
class CreateTriggerInput:
    trigger: TriggerDefinitionInput = strawberry.field(description="Its definition.")


@strawberry.input(description="A trigger's new definition, for events handled from now on (ADMIN).")
class UpdateTriggerInput:
    trigger_id: relay.GlobalID = strawberry.field(description="The trigger.")
    trigger: TriggerDefinitionInput = strawberry.field(description="Its new definition.")


@strawberry.input(description="A trigger to pause: events go by without firing it (ADMIN).")
class PauseTriggerInput:
    trigger_id: relay.GlobalID = strawberry.field(description="The trigger.")


@strawberry.input(description="A paused trigger to fire again, on events from now on (ADMIN).")
class ResumeTriggerInput:
    trigger_id: relay.GlobalID = strawberry.field(description="The trigger.")


@strawberry.type(description="The trigger made, or why not.")
class CreateTriggerPayload:
    trigger: Trigger | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The trigger as it now stands, or why nothing changed.")
class UpdateTriggerPayload:
    trigger: Trigger | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The trigger, now PAUSED, or why nothing changed.")
class PauseTriggerPayload:
    trigger: Trigger | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type(description="The trigger, now ACTIVE, or why nothing changed.")
class ResumeTriggerPayload:
    trigger: Trigger | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


def _definition(given: TriggerDefinitionInput) -> service.TriggerInput:
    try:
        event_type = EventType(given.event_type)
    except ValueError as exc:
        raise Validation("not an event type of the catalogue", ("trigger", "eventType")) from exc
    conditions = tuple(
        dt.Condition(
            c.kind,
            segment_id=None if c.segment_id is None else decode_id(c.segment_id, "Segment", "segmentId"),
            category=c.category,
            threshold=c.threshold,
        )
        for c in given.conditions
    )
    actions = tuple(
        dt.Action(
            a.kind,
            offer_id=None if a.offer_id is None else decode_id(a.offer_id, "Offer", "offerId"),
            template=a.template,
            notification=a.notification,
        )
        for a in given.actions
    )
    return service.TriggerInput(given.name, event_type, conditions, actions)


def _shown(made: dt.Trigger | None) -> Trigger | None:
    return None if made is None else Trigger.from_domain(made)


@strawberry.type
class TriggerQueries:
    @strawberry.field(permission_classes=ADMIN, description="Every trigger, by id (ADMIN).")
    async def triggers(self, info: Info) -> list[Trigger]:
        async def read() -> list[dt.Trigger]:
            async with info.context.read_uow_factory() as uow:
                return await uow.triggers.all()

        return [Trigger.from_domain(t) for t in await retrying(info, read)]

    @strawberry.field(
        permission_classes=ADMIN,
        description="Notices the notification rules stopped since a time, by kind and reason (ADMIN).",
    )
    async def notification_suppressions(
        self,
        info: Info,
        since: Annotated[datetime, strawberry.argument(description="From when to count.")],
    ) -> list[NotificationSuppression]:
        async def read() -> list[NotificationSuppression]:
            async with info.context.read_uow_factory() as uow:
                counts = await uow.notifications.suppressed_counts(since)
            return [
                NotificationSuppression(kind=k, reason=r, count=n)
                for (k, r), n in sorted(counts.items(), key=lambda item: (item[0][0].value, item[0][1].value))
            ]

        return await retrying(info, read)


@strawberry.type
class TriggerMutations:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Define a triggered campaign; audited (ADMIN)."
    )
    async def create_trigger(
        self,
        info: Info,
        input: Annotated[CreateTriggerInput, strawberry.argument(description="The trigger.")],
    ) -> CreateTriggerPayload:
        made, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.create_trigger(
                _definition(input.trigger), actor=actor, uow=uow, clock=clock
            ),
        )
        return CreateTriggerPayload(trigger=_shown(made), errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Change a trigger's definition; audited (ADMIN)."
    )
    async def update_trigger(
        self,
        info: Info,
        input: Annotated[
            UpdateTriggerInput, strawberry.argument(description="The trigger and its definition.")
        ],
    ) -> UpdateTriggerPayload:
        made, errors = await run_use_case(
            info,
            lambda actor, uow, clock: service.update_trigger(
                decode_id(input.trigger_id, "Trigger", "triggerId"),
                _definition(input.trigger),
                actor=actor,
                uow=uow,
                clock=clock,
            ),
        )
        return UpdateTriggerPayload(trigger=_shown(made), errors=errors)

    @strawberry.mutation(permission_classes=ADMIN, description="Stop a trigger firing; audited (ADMIN).")
    async def pause_trigger(
        self,
        info: Info,
        input: Annotated[PauseTriggerInput, strawberry.argument(description="The trigger.")],
    ) -> PauseTriggerPayload:
        made, errors = await _set_status(info, input.trigger_id, dt.TriggerStatus.PAUSED)
        return PauseTriggerPayload(trigger=_shown(made), errors=errors)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Let a paused trigger fire again; audited (ADMIN)."
    )
    async def resume_trigger(
        self,
        info: Info,
        input: Annotated[ResumeTriggerInput, strawberry.argument(description="The trigger.")],
    ) -> ResumeTriggerPayload:
        made, errors = await _set_status(info, input.trigger_id, dt.TriggerStatus.ACTIVE)
        return ResumeTriggerPayload(trigger=_shown(made), errors=errors)


async def _set_status(info: Info, trigger_id: relay.GlobalID, status: dt.TriggerStatus) -> Any:
    """pauseTrigger and resumeTrigger: the trigger with its new status, and the errors."""
    return await run_use_case(
        info,
        lambda actor, uow, clock: service.set_trigger_status(
            decode_id(trigger_id, "Trigger", "triggerId"), status, actor=actor, uow=uow, clock=clock
        ),
    )
