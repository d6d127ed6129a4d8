"""The trigger definitions alone: each condition over the facts, the validation of a definition (each
rule's message, field and boundary), and the stored JSON form, written and read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import Validation
from domain.events import EventType
from domain.merchants import MerchantCategory
from domain.notifications import NotificationKind
from domain.triggers import (
    MAX_ACTIONS,
    MAX_CONDITIONS,
    Action,
    ActionKind,
    Condition,
    ConditionKind,
    Facts,
    Trigger,
    TriggerStatus,
    actions_from_json,
    actions_to_json,
    conditions_from_json,
    conditions_to_json,
    holds,
    matches,
    needs_purchase,
    validated,
)

TRAVEL = MerchantCategory.TRAVEL
DINING = MerchantCategory.DINING
PURCHASE = EventType.PURCHASE_POSTED
NOTIFY = Action(ActionKind.NOTIFY, template="hi")
AT = datetime(2024, 3, 1, tzinfo=UTC)


def facts(**fields: object) -> Facts:
    return Facts(segments=frozenset({4}), **fields)  # type: ignore[arg-type]


def trigger(*conditions: Condition) -> Trigger:
    return Trigger(1, "t", PURCHASE, conditions, (NOTIFY,), TriggerStatus.ACTIVE, AT, AT)


def refusal(
    conditions: tuple[Condition, ...] = (),
    actions: tuple[Action, ...] = (NOTIFY,),
    *,
    name: str = "t",
    event_type: EventType = PURCHASE,
) -> tuple[str, tuple[str, ...] | None]:
    with pytest.raises(Validation) as caught:
        validated(name, event_type, conditions, actions)
    return caught.value.message, caught.value.field


# --- holds and matches ----------------------------------------------------------------------------


def test_first_in_category_needs_both_the_category_and_no_earlier_purchase_in_it() -> None:
    first = Condition(ConditionKind.FIRST_IN_CATEGORY, category=TRAVEL)
    assert holds(first, facts(category=TRAVEL, earlier_in_category=0))
    assert not holds(first, facts(category=TRAVEL, earlier_in_category=1))
    assert not holds(first, facts(category=DINING, earlier_in_category=0))
    assert not holds(first, facts(category=None, earlier_in_category=0))


def test_purchase_category_ignores_earlier_purchases() -> None:
    category = Condition(ConditionKind.PURCHASE_CATEGORY, category=TRAVEL)
    assert holds(category, facts(category=TRAVEL, earlier_in_category=3))
    assert not holds(category, facts(category=DINING))


def test_a_balance_crosses_only_from_below_to_at_or_above_the_threshold() -> None:
    crosses = Condition(ConditionKind.BALANCE_CROSSES, threshold=100)
    assert holds(crosses, facts(available_before=99, available_after=100))
    assert holds(crosses, facts(available_before=0, available_after=101))
    assert not holds(crosses, facts(available_before=100, available_after=150))  # there before
    assert not holds(crosses, facts(available_before=99, available_after=99))  # not reached
    assert not holds(crosses, facts(available_before=100, available_after=100))  # no move
    assert not holds(crosses, facts(available_before=120, available_after=90))  # fell through it


def test_a_trigger_matches_when_every_condition_holds_and_with_none() -> None:
    in_four = Condition(ConditionKind.IN_SEGMENT, segment_id=4)
    in_five = Condition(ConditionKind.IN_SEGMENT, segment_id=5)
    travel = Condition(ConditionKind.PURCHASE_CATEGORY, category=TRAVEL)
    assert matches(trigger(), facts())
    assert matches(trigger(in_four, travel), facts(category=TRAVEL))
    assert not matches(trigger(in_four, in_five), facts())
    assert not matches(trigger(in_five, in_four), facts())
    assert not matches(trigger(in_four, travel), facts(category=DINING))


def test_a_trigger_needs_the_purchase_only_for_its_category_conditions() -> None:
    assert not needs_purchase(trigger())
    assert not needs_purchase(
        trigger(
            Condition(ConditionKind.IN_SEGMENT, segment_id=4),
            Condition(ConditionKind.BALANCE_CROSSES, threshold=10),
        )
    )
    assert needs_purchase(trigger(Condition(ConditionKind.PURCHASE_CATEGORY, category=TRAVEL)))
    assert needs_purchase(
        trigger(
            Condition(ConditionKind.IN_SEGMENT, segment_id=4),
            Condition(ConditionKind.FIRST_IN_CATEGORY, category=TRAVEL),
        )
    )


# --- validation -----------------------------------------------------------------------------------


def test_a_name_is_1_to_120_characters_once_stripped() -> None:
    validated("a", PURCHASE, (), (NOTIFY,))
    validated("x" * 120, PURCHASE, (), (NOTIFY,))
    for name in ["", "   ", "x" * 121]:
        assert refusal(name=name) == ("a name of 1 to 120 characters", ("name",))


def test_at_most_ten_conditions() -> None:
    segment = Condition(ConditionKind.IN_SEGMENT, segment_id=1)
    assert MAX_CONDITIONS == 10
    validated("t", PURCHASE, (segment,) * 10, (NOTIFY,))
    assert refusal((segment,) * 11) == ("at most 10 conditions", ("conditions",))


def test_one_to_three_actions() -> None:
    assert MAX_ACTIONS == 3
    validated("t", PURCHASE, (), (NOTIFY,))
    validated("t", PURCHASE, (), (NOTIFY,) * 3)
    assert refusal(actions=()) == ("1 to 3 actions", ("actions",))
    assert refusal(actions=(NOTIFY,) * 4) == ("1 to 3 actions", ("actions",))


def test_each_condition_kind_needs_its_field() -> None:
    ok = Condition(ConditionKind.IN_SEGMENT, segment_id=1)
    assert refusal((ok, Condition(ConditionKind.IN_SEGMENT))) == (
        "IN_SEGMENT needs a segmentId",
        ("conditions", "1", "segmentId"),
    )
    for kind in [ConditionKind.PURCHASE_CATEGORY, ConditionKind.FIRST_IN_CATEGORY]:
        assert refusal((ok, Condition(kind))) == (
            f"{kind.value} needs a category",
            ("conditions", "1", "category"),
        )
    for threshold in [None, 0, -5]:
        assert refusal((ok, Condition(ConditionKind.BALANCE_CROSSES, threshold=threshold))) == (
            "BALANCE_CROSSES needs a positive threshold",
            ("conditions", "1", "threshold"),
        )
    # Each kind's own field only: none of them asks for another's.
    validated(
        "t",
        PURCHASE,
        (
            ok,
            Condition(ConditionKind.PURCHASE_CATEGORY, category=TRAVEL),
            Condition(ConditionKind.FIRST_IN_CATEGORY, category=DINING),
            Condition(ConditionKind.BALANCE_CROSSES, threshold=1),
        ),
        (NOTIFY,),
    )


def test_purchase_conditions_apply_to_purchase_events_only() -> None:
    ok = Condition(ConditionKind.IN_SEGMENT, segment_id=1)
    for kind in [ConditionKind.PURCHASE_CATEGORY, ConditionKind.FIRST_IN_CATEGORY]:
        assert refusal((ok, Condition(kind, category=TRAVEL)), event_type=EventType.TIER_CHANGED) == (
            f"{kind.value} applies to purchase.posted only",
            ("conditions", "1", "kind"),
        )
    assert refusal(
        (ok, Condition(ConditionKind.BALANCE_CROSSES, threshold=5)), event_type=EventType.MEMBER_NO_PURCHASE
    ) == ("BALANCE_CROSSES applies to purchase.posted only", ("conditions", "1", "kind"))
    # A segment condition goes with any event.
    validated("t", EventType.MEMBER_NO_PURCHASE, (ok,), (NOTIFY,))


def test_coupon_and_award_actions_need_an_offer() -> None:
    for kind in [ActionKind.ISSUE_COUPON, ActionKind.AWARD_POINTS]:
        assert refusal(actions=(NOTIFY, Action(kind))) == (
            f"{kind.value} needs an offerId",
            ("actions", "1", "offerId"),
        )
    validated(
        "t",
        PURCHASE,
        (),
        (Action(ActionKind.ISSUE_COUPON, offer_id=1), Action(ActionKind.AWARD_POINTS, offer_id=2), NOTIFY),
    )


def test_a_notification_needs_a_template_of_1_to_60_characters() -> None:
    validated("t", PURCHASE, (), (Action(ActionKind.NOTIFY, template="x" * 60),))
    validated("t", PURCHASE, (), (Action(ActionKind.NOTIFY, template="x"),))
    for template in [None, "", "x" * 61]:
        assert refusal(actions=(NOTIFY, Action(ActionKind.NOTIFY, template=template))) == (
            "NOTIFY needs a template key of 1 to 60 characters",
            ("actions", "1", "template"),
        )


def test_a_trigger_sends_marketing_notifications_only() -> None:
    for kind in [NotificationKind.CAMPAIGN, NotificationKind.OFFER_RECOMMENDED]:
        validated("t", PURCHASE, (), (Action(ActionKind.NOTIFY, template="x", notification=kind),))
    for kind in [NotificationKind.TIER_CHANGED, NotificationKind.POINTS_EXPIRING]:
        assert refusal(actions=(NOTIFY, Action(ActionKind.NOTIFY, template="x", notification=kind))) == (
            "a trigger sends marketing notifications only",
            ("actions", "1", "notification"),
        )


# --- stored form ----------------------------------------------------------------------------------


def test_conditions_are_stored_as_plain_dicts_and_read_back_the_same() -> None:
    conditions = (
        Condition(ConditionKind.IN_SEGMENT, segment_id=7),
        Condition(ConditionKind.FIRST_IN_CATEGORY, category=TRAVEL),
        Condition(ConditionKind.BALANCE_CROSSES, threshold=10_000),
    )
    stored = conditions_to_json(conditions)
    assert stored == [
        {"kind": "IN_SEGMENT", "segmentId": 7, "category": None, "threshold": None},
        {"kind": "FIRST_IN_CATEGORY", "segmentId": None, "category": "TRAVEL", "threshold": None},
        {"kind": "BALANCE_CROSSES", "segmentId": None, "category": None, "threshold": 10_000},
    ]
    assert conditions_from_json(stored) == conditions


def test_stored_conditions_read_with_missing_keys_and_numbers_as_text() -> None:
    assert conditions_from_json(
        [
            {"kind": "IN_SEGMENT", "segmentId": "7"},
            {"kind": "PURCHASE_CATEGORY", "category": "DINING", "threshold": None},
            {"kind": "BALANCE_CROSSES", "category": "", "threshold": "250"},
        ]
    ) == (
        Condition(ConditionKind.IN_SEGMENT, segment_id=7),
        Condition(ConditionKind.PURCHASE_CATEGORY, category=DINING),
        Condition(ConditionKind.BALANCE_CROSSES, threshold=250),
    )


def test_actions_are_stored_as_plain_dicts_and_read_back_the_same() -> None:
    actions = (
        Action(ActionKind.ISSUE_COUPON, offer_id=3),
        Action(ActionKind.NOTIFY, template="suggest", notification=NotificationKind.OFFER_RECOMMENDED),
    )
    stored = actions_to_json(actions)
    assert stored == [
        {"kind": "ISSUE_COUPON", "offerId": 3, "template": None, "notification": "CAMPAIGN"},
        {"kind": "NOTIFY", "offerId": None, "template": "suggest", "notification": "OFFER_RECOMMENDED"},
    ]
    assert actions_from_json(stored) == actions


def test_stored_actions_read_with_missing_keys_as_a_campaign_message() -> None:
    assert actions_from_json(
        [
            {"kind": "AWARD_POINTS", "offerId": "9"},
            {"kind": "NOTIFY", "template": "hello", "notification": None},
            {"kind": "NOTIFY", "template": "", "notification": "OFFER_RECOMMENDED"},
        ]
    ) == (
        Action(ActionKind.AWARD_POINTS, offer_id=9),
        Action(ActionKind.NOTIFY, template="hello", notification=NotificationKind.CAMPAIGN),
        Action(ActionKind.NOTIFY, template=None, notification=NotificationKind.OFFER_RECOMMENDED),
    )
