"""The segment rule language on its own: which fields are numeric or per category, what `validated`
refuses (exact message and field, at each limit and one past it), depth and condition counts, and
what `matches` says for every operator and kind of field, including the defaults of missing facts."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from domain.errors import Validation
from domain.merchants import MerchantCategory
from domain.segments import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_TEXT,
    MAX_VALUES,
    TEXT_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    MemberFacts,
    Not,
    Operator,
    Rule,
    SegmentField,
    conditions,
    depth,
    matches,
    validated,
)

F = SegmentField
O = Operator  # noqa: E741
POINTS = Condition(F.AVAILABLE_POINTS, O.GTE, number=100)
REGION = Condition(F.REGION, O.EQ, text="north")


def refusal(rule: Rule) -> tuple[str, tuple[str, ...] | None]:
    with pytest.raises(Validation) as caught:
        validated(rule)
    return caught.value.message, caught.value.field


def facts(
    numbers: Mapping[SegmentField, int] | None = None,
    texts: Mapping[SegmentField, str] | None = None,
    tags: frozenset[str] = frozenset(),
    category_purchases_90d: Mapping[MerchantCategory, int] | None = None,
    category_spend_365d: Mapping[MerchantCategory, int] | None = None,
) -> MemberFacts:
    return MemberFacts(
        numbers or {}, texts or {}, tags, category_purchases_90d or {}, category_spend_365d or {}
    )


def nested(levels: int) -> Rule:
    """A rule `levels` deep: NOTs around one condition."""
    rule: Rule = POINTS
    for _ in range(levels - 1):
        rule = Not(rule)
    return rule


# Fields


def test_exactly_the_six_text_fields_are_not_numeric() -> None:
    text = {F.LIFECYCLE_STAGE, F.TIER, F.STATUS, F.REGION, F.INCOME_BAND, F.TAG}
    assert text == TEXT_FIELDS
    assert {f for f in F if not f.numeric} == text
    assert F.SPEND_30D.numeric is True


def test_only_the_two_category_fields_are_per_category() -> None:
    per_category = {f for f in F if f.per_category}
    assert per_category == {F.CATEGORY_PURCHASES_90D, F.CATEGORY_SPEND_365D}


# Depth and size


def test_depth_counts_levels_of_all_any_and_not() -> None:
    assert depth(POINTS) == 1
    assert depth(Not(POINTS)) == 2
    assert depth(AllOf((POINTS, Not(POINTS)))) == 3
    assert depth(AnyOf((Not(Not(POINTS)), POINTS))) == 4
    assert depth(AllOf(())) == 1


def test_conditions_counts_every_leaf() -> None:
    assert conditions(POINTS) == 1
    assert conditions(Not(POINTS)) == 1
    assert conditions(AllOf((POINTS, AnyOf((POINTS, Not(REGION))), REGION))) == 4
    assert conditions(AnyOf(())) == 0
    # a NOT counts what it negates, however many conditions that is
    assert conditions(Not(AllOf((POINTS, REGION, POINTS)))) == 3
    assert conditions(Not(AnyOf(()))) == 0


def test_rules_as_deep_as_the_limit_pass_and_one_deeper_is_refused() -> None:
    assert MAX_DEPTH == 6
    deepest = nested(MAX_DEPTH)
    assert validated(deepest) is deepest
    assert refusal(nested(MAX_DEPTH + 1)) == ("rules may nest at most 6 levels", ("rules",))


def test_as_many_conditions_as_the_limit_pass_and_one_more_is_refused() -> None:
    assert MAX_CONDITIONS == 50
    most = AllOf((POINTS,) * MAX_CONDITIONS)
    assert validated(most) is most
    assert refusal(AllOf((POINTS,) * (MAX_CONDITIONS + 1))) == ("at most 50 conditions", ("rules",))
    assert refusal(Not(AnyOf((POINTS,) * (MAX_CONDITIONS + 1)))) == ("at most 50 conditions", ("rules",))


def test_the_path_given_prefixes_every_refusal() -> None:
    with pytest.raises(Validation) as caught:
        validated(nested(7), ("input", "rules"))
    assert caught.value.field == ("input", "rules")
    with pytest.raises(Validation) as caught:
        validated(AnyOf(()), ("x",))
    assert caught.value.field == ("x", "any")


# Structure


def test_an_empty_all_or_any_is_refused_where_it_is() -> None:
    assert refusal(AllOf(())) == ("`all` needs at least one rule", ("rules", "all"))
    assert refusal(AnyOf(())) == ("`any` needs at least one rule", ("rules", "any"))
    assert refusal(Not(AllOf((POINTS, AnyOf(()))))) == (
        "`any` needs at least one rule",
        ("rules", "not", "all", "1", "any"),
    )


def test_a_bad_condition_deep_inside_is_refused_at_its_path() -> None:
    bad = Condition(F.REGION, O.GT, text="x")
    assert refusal(AnyOf((REGION, AllOf((POINTS, Not(bad)))))) == (
        "REGION compares with EQ, NE, IN or NOT_IN",
        ("rules", "any", "1", "all", "1", "not", "condition", "op"),
    )
    assert refusal(bad) == ("REGION compares with EQ, NE, IN or NOT_IN", ("rules", "condition", "op"))


def test_every_inner_rule_is_checked_not_only_the_first() -> None:
    bad = Condition(F.TAG, O.EQ)
    assert refusal(AllOf((POINTS, REGION, bad)))[1] == ("rules", "all", "2", "condition", "text")


# Categories


def test_a_category_field_needs_a_category_and_others_take_none() -> None:
    assert refusal(Condition(F.CATEGORY_PURCHASES_90D, O.GT, number=1)) == (
        "CATEGORY_PURCHASES_90D needs a category",
        ("rules", "condition", "category"),
    )
    assert refusal(Condition(F.CATEGORY_SPEND_365D, O.GT, number=1)) == (
        "CATEGORY_SPEND_365D needs a category",
        ("rules", "condition", "category"),
    )
    assert refusal(Condition(F.SPEND_90D, O.GT, number=1, category=MerchantCategory.DINING)) == (
        "SPEND_90D takes no a category",
        ("rules", "condition", "category"),
    )
    with_category = Condition(F.CATEGORY_SPEND_365D, O.GT, number=1, category=MerchantCategory.TRAVEL)
    assert validated(with_category) is with_category


# Numeric conditions


@pytest.mark.parametrize("op", [O.EQ, O.NE, O.LT, O.LTE, O.GT, O.GTE])
def test_a_numeric_field_takes_each_comparison(op: Operator) -> None:
    rule = Condition(F.PURCHASES_90D, op, number=3)
    assert validated(rule) is rule


@pytest.mark.parametrize("op", [O.IN, O.NOT_IN])
def test_a_numeric_field_refuses_sets(op: Operator) -> None:
    assert refusal(Condition(F.SPEND_30D, op, number=1)) == (
        "SPEND_30D compares with EQ, NE, LT, LTE, GT or GTE",
        ("rules", "condition", "op"),
    )


@pytest.mark.parametrize(
    "rule",
    [
        Condition(F.BIRTH_YEAR, O.EQ),
        Condition(F.BIRTH_YEAR, O.EQ, number=1990, text="1990"),
        Condition(F.BIRTH_YEAR, O.EQ, number=1990, values=("1990",)),
    ],
)
def test_a_numeric_field_needs_a_number_and_nothing_else(rule: Condition) -> None:
    assert refusal(rule) == ("BIRTH_YEAR compares with a number", ("rules", "condition", "number"))


def test_numbers_up_to_two_to_the_53_either_way_are_in_range() -> None:
    for number in (2**53, -(2**53), 0):
        rule = Condition(F.LIFETIME_EARNED, O.LT, number=number)
        assert validated(rule) is rule
    for number in (2**53 + 1, -(2**53) - 1):
        assert refusal(Condition(F.LIFETIME_EARNED, O.LT, number=number)) == (
            "the number is out of range",
            ("rules", "condition", "number"),
        )


# Text conditions


@pytest.mark.parametrize("op", [O.LT, O.LTE, O.GT, O.GTE])
def test_a_text_field_refuses_ordering(op: Operator) -> None:
    assert refusal(Condition(F.TIER, op, text="GOLD")) == (
        "TIER compares with EQ, NE, IN or NOT_IN",
        ("rules", "condition", "op"),
    )


def test_a_text_field_refuses_a_number() -> None:
    assert refusal(Condition(F.STATUS, O.EQ, number=1, text="ACTIVE")) == (
        "STATUS compares with text",
        ("rules", "condition", "number"),
    )
    assert refusal(Condition(F.STATUS, O.IN, number=0, values=("ACTIVE",))) == (
        "STATUS compares with text",
        ("rules", "condition", "number"),
    )


@pytest.mark.parametrize("op", [O.EQ, O.NE])
def test_eq_and_ne_on_text_need_exactly_one_text(op: Operator) -> None:
    message = f"{op.value} needs one text"
    assert refusal(Condition(F.REGION, op)) == (message, ("rules", "condition", "text"))
    assert refusal(Condition(F.REGION, op, text="a", values=("b",))) == (
        message,
        ("rules", "condition", "text"),
    )
    rule = Condition(F.REGION, op, text="")
    assert validated(rule) is rule


@pytest.mark.parametrize("op", [O.IN, O.NOT_IN])
def test_sets_need_1_to_100_values_and_no_text(op: Operator) -> None:
    assert MAX_VALUES == 100
    message = f"{op.value} needs 1 to 100 values"
    where = ("rules", "condition", "values")
    assert refusal(Condition(F.INCOME_BAND, op)) == (message, where)
    assert refusal(Condition(F.INCOME_BAND, op, text="a", values=("a",))) == (message, where)
    assert refusal(Condition(F.INCOME_BAND, op, values=("a",) * (MAX_VALUES + 1))) == (message, where)
    for values in (("a",), ("a",) * MAX_VALUES):
        rule = Condition(F.INCOME_BAND, op, values=values)
        assert validated(rule) is rule


def test_texts_of_the_longest_length_pass_and_longer_or_with_nul_are_refused() -> None:
    assert MAX_TEXT == 100
    longest = "x" * MAX_TEXT
    for rule in (Condition(F.REGION, O.EQ, text=longest), Condition(F.TAG, O.IN, values=("a", longest))):
        assert validated(rule) is rule
    message = "texts are at most 100 characters"
    assert refusal(Condition(F.REGION, O.NE, text=longest + "x")) == (
        message,
        ("rules", "condition", "text"),
    )
    assert refusal(Condition(F.REGION, O.EQ, text="a\x00b")) == (message, ("rules", "condition", "text"))
    assert refusal(Condition(F.TAG, O.NOT_IN, values=("ok", longest + "x"))) == (
        message,
        ("rules", "condition", "values"),
    )
    assert refusal(Condition(F.TAG, O.IN, values=("ok", "\x00"))) == (
        message,
        ("rules", "condition", "values"),
    )


# Matching


@pytest.mark.parametrize(
    ("op", "below", "equal", "above"),
    [
        (O.EQ, False, True, False),
        (O.NE, True, False, True),
        (O.LT, True, False, False),
        (O.LTE, True, True, False),
        (O.GT, False, False, True),
        (O.GTE, False, True, True),
    ],
)
def test_each_numeric_comparison_around_its_number(
    op: Operator, below: bool, equal: bool, above: bool
) -> None:
    rule = Condition(F.SPEND_365D, op, number=500)
    assert [matches(rule, facts({F.SPEND_365D: v})) for v in (499, 500, 501)] == [below, equal, above]


def test_a_missing_number_is_zero() -> None:
    assert matches(Condition(F.BIRTH_YEAR, O.EQ, number=0), facts()) is True
    assert matches(Condition(F.BIRTH_YEAR, O.EQ, number=1), facts({F.PURCHASES_30D: 1})) is False


def test_each_field_reads_its_own_number() -> None:
    numbers = {F.PURCHASES_30D: 1, F.PURCHASES_90D: 2}
    assert matches(Condition(F.PURCHASES_90D, O.EQ, number=2), facts(numbers)) is True
    assert matches(Condition(F.PURCHASES_30D, O.EQ, number=1), facts(numbers)) is True


def test_category_fields_read_their_own_category_and_default_to_zero() -> None:
    member = facts(
        numbers={F.CATEGORY_PURCHASES_90D: 9, F.CATEGORY_SPEND_365D: 9},
        category_purchases_90d={MerchantCategory.DINING: 3},
        category_spend_365d={MerchantCategory.DINING: 700, MerchantCategory.RETAIL: 50},
    )
    dining = MerchantCategory.DINING

    def holds(field: SegmentField, number: int, category: MerchantCategory = dining) -> bool:
        return matches(Condition(field, O.EQ, number=number, category=category), member)

    assert holds(F.CATEGORY_PURCHASES_90D, 3) is True
    assert holds(F.CATEGORY_SPEND_365D, 700) is True
    assert holds(F.CATEGORY_SPEND_365D, 50, MerchantCategory.RETAIL) is True
    assert holds(F.CATEGORY_PURCHASES_90D, 0, MerchantCategory.RETAIL) is True
    assert holds(F.CATEGORY_SPEND_365D, 0, MerchantCategory.TRAVEL) is True


def test_text_comparisons_and_sets() -> None:
    member = facts(texts={F.REGION: "north", F.TIER: "GOLD"})
    assert matches(Condition(F.REGION, O.EQ, text="north"), member) is True
    assert matches(Condition(F.REGION, O.EQ, text="south"), member) is False
    assert matches(Condition(F.REGION, O.NE, text="north"), member) is False
    assert matches(Condition(F.REGION, O.NE, text="south"), member) is True
    assert matches(Condition(F.TIER, O.IN, values=("SILVER", "GOLD")), member) is True
    assert matches(Condition(F.TIER, O.IN, values=("SILVER",)), member) is False
    assert matches(Condition(F.TIER, O.NOT_IN, values=("SILVER", "GOLD")), member) is False
    assert matches(Condition(F.TIER, O.NOT_IN, values=("SILVER",)), member) is True


def test_a_missing_text_is_empty() -> None:
    assert matches(Condition(F.INCOME_BAND, O.EQ, text=""), facts()) is True
    assert matches(Condition(F.INCOME_BAND, O.IN, values=("",)), facts()) is True
    assert matches(Condition(F.INCOME_BAND, O.NE, text=""), facts()) is False


def test_tags_match_case_insensitively_by_op() -> None:
    member = facts(texts={F.TAG: "vip"}, tags=frozenset({"vip", "gold"}))
    assert matches(Condition(F.TAG, O.EQ, text="VIP"), member) is True
    assert matches(Condition(F.TAG, O.EQ, text="new"), member) is False
    assert matches(Condition(F.TAG, O.NE, text="Vip"), member) is False
    assert matches(Condition(F.TAG, O.NE, text="new"), member) is True
    assert matches(Condition(F.TAG, O.IN, values=("New", "GOLD")), member) is True
    assert matches(Condition(F.TAG, O.IN, values=("new",)), member) is False
    assert matches(Condition(F.TAG, O.NOT_IN, values=("new", "Gold")), member) is False
    assert matches(Condition(F.TAG, O.NOT_IN, values=("new", "x")), member) is True


def test_all_any_and_not_combine_as_in_logic() -> None:
    yes = Condition(F.PURCHASES_30D, O.EQ, number=0)
    no = Condition(F.PURCHASES_30D, O.EQ, number=1)
    member = facts()
    assert matches(AllOf((yes, yes)), member) is True
    assert matches(AllOf((yes, no)), member) is False
    assert matches(AllOf((no, yes)), member) is False
    assert matches(AnyOf((no, yes)), member) is True
    assert matches(AnyOf((yes, no)), member) is True
    assert matches(AnyOf((no, no)), member) is False
    assert matches(Not(no), member) is True
    assert matches(Not(yes), member) is False
    assert matches(Not(AllOf((yes, Not(no)))), member) is False
