"""Experiments on offers, pure (`domain/experiments`): the assignment is a stable hash, the split
follows the shares within tolerance over many members, each arm presents its variant, the holdout is
not offered it, and an experiment is checked before it is stored."""

from __future__ import annotations

import hashlib
from collections import Counter
from decimal import Decimal

import pytest

from domain.errors import Validation
from domain.experiments.arms import assigned, check_experiment, in_arm, with_variant
from domain.experiments.assignment import arm_of, bucket
from domain.experiments.model import HOLDOUT, Assignment, Experiment, Variant
from domain.money import Money
from domain.offers import Mechanic, Trigger, evaluate
from tests.unit.test_offers import NOW, facts, offer

AB = Experiment(
    id=3,
    started_at=NOW,
    holdout_bp=1_000,
    variants=(Variant("five", 1, percent=Decimal(5)), Variant("eight", 1, percent=Decimal(8))),
)
CASHBACK = offer(1, Mechanic.CASHBACK_POINTS, percent=Decimal(5), experiment=AB)


def test_the_bucket_is_sha256_of_offer_experiment_and_member_mod_10000() -> None:
    digest = hashlib.sha256(b"offer:1:experiment:3:member:42").digest()
    assert bucket(1, 3, 42) == int.from_bytes(digest[:8], "big") % 10_000


def test_the_arm_is_the_same_on_every_call_and_changes_with_the_experiment() -> None:
    arms = [arm_of(1, AB, m) for m in range(1, 2_001)]
    assert arms == [arm_of(1, AB, m) for m in range(1, 2_001)]
    other = Experiment(4, NOW, AB.holdout_bp, AB.variants)
    moved = sum(a != arm_of(1, other, m) for m, a in enumerate(arms, start=1))
    assert moved > 500  # a new experiment reshuffles (about 58% of members change arm)


def test_the_holdout_is_the_low_buckets_and_the_variants_split_the_rest_by_weight() -> None:
    weighted = Experiment(3, NOW, 2_000, (Variant("a", 1), Variant("b", 3)))
    for member in range(1, 3_000):
        position = bucket(1, 3, member)
        expected = HOLDOUT if position < 2_000 else ("a" if (position - 2_000) * 4 // 8_000 < 1 else "b")
        assert arm_of(1, weighted, member) == expected


@pytest.mark.parametrize(
    ("holdout_bp", "weights"),
    [(1_000, (1, 1)), (5_000, (1,)), (0, (1, 2, 7)), (2_500, (3, 1))],
)
def test_over_100000_members_each_arm_gets_its_share_within_one_percentage_point(
    holdout_bp: int, weights: tuple[int, ...]
) -> None:
    experiment = Experiment(9, NOW, holdout_bp, tuple(Variant(f"v{i}", w) for i, w in enumerate(weights)))
    counts = Counter(arm_of(17, experiment, member) for member in range(1, 100_001))
    for arm, share in experiment.shares().items():
        # 4 standard errors of a proportion over 100,000 is at most 0.0063
        assert abs(counts[arm] / 100_000 - share) < 0.0065, (arm, counts[arm], share)
    assert sum(counts.values()) == 100_000


def test_each_arm_presents_its_variant_and_the_holdout_is_not_offered() -> None:
    eight = next(m for m in range(1, 100) if arm_of(1, AB, m) == "eight")
    held = next(m for m in range(1, 100) if arm_of(1, AB, m) == HOLDOUT)
    plain = offer(2)

    shown, recorded = assigned(eight, [plain, CASHBACK])
    assert [o.id for o in shown] == [2, 1]
    assert shown[1].percent == Decimal(8)
    assert recorded == [Assignment(1, 3, eight, "eight")]
    shown, recorded = assigned(held, [CASHBACK, plain])
    assert shown == [plain]
    assert recorded == [Assignment(1, 3, held, HOLDOUT)]
    assert in_arm(CASHBACK, HOLDOUT) is None


def test_the_variant_parameter_is_what_the_engine_awards() -> None:
    five = in_arm(CASHBACK, "five")
    eight = in_arm(CASHBACK, "eight")
    assert five is not None
    assert eight is not None
    # 100.00 CNY at 1 point per yuan: 5% and 8% cashback as points
    assert evaluate(facts(10_000), [five], {}).bonus_points == 5
    assert evaluate(facts(10_000), [eight], {}).bonus_points == 8


def test_a_variant_may_change_only_the_message() -> None:
    message = Experiment(3, NOW, 0, (Variant("plain", 1), Variant("urgent", 1, name="Last days: 5% back")))
    armed = in_arm(offer(1, Mechanic.CASHBACK_POINTS, percent=Decimal(5), experiment=message), "urgent")
    assert armed is not None
    assert (armed.name, armed.percent) == ("Last days: 5% back", Decimal(5))


@pytest.mark.parametrize(
    ("experiment", "field", "message"),
    [
        (Experiment(0, NOW, 5_001, (Variant("a", 1),)), ("holdoutShare",), "between 0 and 5000 basis points"),
        (Experiment(0, NOW, -1, (Variant("a", 1),)), ("holdoutShare",), "between 0 and 5000 basis points"),
        (Experiment(0, NOW, 100, ()), ("variants",), "between 1 and 10 variants"),
        (
            Experiment(0, NOW, 100, tuple(Variant(f"v{i}", 1) for i in range(11))),
            ("variants",),
            "between 1 and 10 variants",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1), Variant("a", 2))),
            ("variants", "key"),
            "variant keys must be unique",
        ),
        # keys are compared trimmed
        (
            Experiment(0, NOW, 100, (Variant("a", 1), Variant(" a ", 2))),
            ("variants", "key"),
            "variant keys must be unique",
        ),
        (
            Experiment(0, NOW, 100, (Variant("holdout", 1),)),
            ("variants", "key"),
            "'holdout' names the holdout",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 0),)),
            ("variants", "0", "weight"),
            "must be greater than zero",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1), Variant("b", 1, points=5))),
            ("variants", "1", "points"),
            "a CASHBACK_POINTS offer takes no points",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1, amount=Money(5, "CNY")),)),
            ("variants", "0", "amount"),
            "a CASHBACK_POINTS offer takes no amount",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1),), margin_bp=10_001),
            ("marginRate",),
            "between 0 and 10000 basis points",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1),), margin_bp=-1),
            ("marginRate",),
            "between 0 and 10000 basis points",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1), Variant("k" * 41, 1))),
            ("variants", "1", "key"),
            "must be at most 40 characters",
        ),
        (
            Experiment(0, NOW, 100, (Variant("a", 1), Variant("b", 1, name="n" * 121))),
            ("variants", "1", "name"),
            "must be at most 120 characters",
        ),
    ],
)
def test_a_bad_experiment_is_refused_naming_its_field(
    experiment: Experiment, field: tuple[str, ...], message: str
) -> None:
    with pytest.raises(Validation) as refused:
        check_experiment(CASHBACK, experiment)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_an_experiment_at_its_limits_is_taken_with_keys_and_messages_trimmed() -> None:
    widest = tuple(Variant(f"v{i}", 1) for i in range(10))
    assert check_experiment(CASHBACK, Experiment(0, NOW, 0, widest, margin_bp=10_000)).variants == widest
    given = Experiment(
        0,
        NOW,
        5_000,
        (
            Variant(" " + "k" * 40 + " ", 2, name="  " + "n" * 120 + " ", percent=Decimal(6)),
            Variant("b", 1, name="   "),
        ),
        margin_bp=0,
    )
    assert check_experiment(CASHBACK, given) == Experiment(
        0,
        NOW,
        5_000,
        (Variant("k" * 40, 2, name="n" * 120, percent=Decimal(6)), Variant("b", 1)),
        margin_bp=0,
    )


def test_only_purchase_offers_carry_experiments() -> None:
    with pytest.raises(Validation) as refused:
        check_experiment(offer(1, trigger=Trigger.SIGN_UP), AB)
    assert (refused.value.field, refused.value.message) == (
        ("offerId",),
        "only purchase offers carry experiments",
    )


def test_the_assignments_come_back_by_offer_id_whatever_the_offers_order() -> None:
    later = offer(7, Mechanic.CASHBACK_POINTS, percent=Decimal(5), experiment=AB)
    _, recorded = assigned(42, [later, CASHBACK])
    assert [(a.offer_id, a.member_id) for a in recorded] == [(1, 42), (7, 42)]
    assert [a.arm for a in recorded] == [arm_of(1, AB, 42), arm_of(7, AB, 42)]


def test_an_arm_the_experiment_does_not_have_presents_the_offer_as_it_is() -> None:
    assert in_arm(CASHBACK, "gone") is CASHBACK
    assert in_arm(offer(2), HOLDOUT) == offer(2)  # no experiment: everyone gets it


def test_a_variant_replaces_only_the_parameters_it_sets() -> None:
    base = offer(
        1,
        points=10,
        multiplier=Decimal(2),
        percent=Decimal(5),
        amount=Money(500, "CNY"),
        experiment=AB,
    )
    unchanged = with_variant(base, Variant("same", 1))
    assert (unchanged.name, unchanged.points, unchanged.multiplier, unchanged.percent, unchanged.amount) == (
        "offer 1",
        10,
        Decimal(2),
        Decimal(5),
        Money(500, "CNY"),
    )
    every = with_variant(
        base,
        Variant(
            "all",
            1,
            name="All new",
            points=20,
            multiplier=Decimal(3),
            percent=Decimal(7),
            amount=Money(900, "CNY"),
        ),
    )
    assert (every.name, every.points, every.multiplier, every.percent, every.amount) == (
        "All new",
        20,
        Decimal(3),
        Decimal(7),
        Money(900, "CNY"),
    )


def test_the_holdout_ends_just_below_holdout_bp_and_the_first_variant_starts_at_it() -> None:
    assert bucket(1, 3, 11) == 25  # member 11's bucket in experiment 3 of offer 1
    variants = (Variant("a", 1), Variant("b", 1))
    assert arm_of(1, Experiment(3, NOW, 25, variants), 11) == "a"
    assert arm_of(1, Experiment(3, NOW, 26, variants), 11) == HOLDOUT


def test_the_last_variant_takes_the_top_of_the_range_and_the_middle_one_its_own() -> None:
    # Weights 1, 1, 2 over the variants' range [0, 10,000): a 1/4, b 1/4, c the top half.
    three = Experiment(3, NOW, 0, (Variant("a", 1), Variant("b", 1), Variant("c", 2)))
    for member in range(1, 400):
        position = bucket(1, 3, member)
        expected = "a" if position < 2_500 else "b" if position < 5_000 else "c"
        assert arm_of(1, three, member) == expected


def test_a_bucket_on_a_variants_upper_edge_is_in_the_next_variant() -> None:
    # Weights 1, 1, 2 without a holdout: a is [0, 2500), b [2500, 5000), c [5000, 10000).
    assert (bucket(1, 3, 12_647), bucket(1, 3, 986), bucket(1, 3, 6_491)) == (2_500, 5_000, 7_500)
    three = Experiment(3, NOW, 0, (Variant("a", 1), Variant("b", 1), Variant("c", 2)))
    assert [arm_of(1, three, m) for m in (12_647, 986, 6_491)] == ["b", "c", "c"]
    # with a holdout of 2,500 the variants' range is [2500, 10000): a gets up to 4375
    held = Experiment(3, NOW, 2_500, (Variant("a", 1), Variant("b", 1), Variant("c", 2)))
    assert [arm_of(1, held, m) for m in (12_647, 986, 6_491)] == ["a", "b", "c"]
