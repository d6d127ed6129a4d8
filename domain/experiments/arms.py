"""The offer as an arm presents it, which arm each member is in, and the checks an experiment passes
before it is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain import validation
from domain.errors import Validation
from domain.experiments.assignment import arm_of
from domain.experiments.model import HOLDOUT, MAX_HOLDOUT_BP, MAX_VARIANTS, Assignment, Experiment, Variant
from domain.offers.model import Mechanic, Offer, Trigger

# Which variant parameter each mechanic takes; the others are refused.
PARAMETER = {
    Mechanic.BONUS_POINTS: "points",
    Mechanic.POINTS_MULTIPLIER: "multiplier",
    Mechanic.INSTANT_DISCOUNT: "amount",
    Mechanic.SPEND_AND_SAVE: "amount",
    Mechanic.PERCENT_DISCOUNT: "percent",
    Mechanic.CASHBACK_POINTS: "percent",
    Mechanic.CASHBACK_MONEY: "percent",
}
_PARAMETERS = ("points", "multiplier", "percent", "amount")


def in_arm(offer: Offer, arm: str) -> Offer | None:
    """The offer as a member of `arm` gets it; None for the holdout (not offered at all)."""
    experiment = offer.experiment
    if experiment is None:
        return offer
    if arm == HOLDOUT:
        return None
    variant = next((v for v in experiment.variants if v.key == arm), None)
    return offer if variant is None else with_variant(offer, variant)


def with_variant(offer: Offer, variant: Variant) -> Offer:
    """The offer with what the variant changes; what it leaves None stays."""
    return replace(
        offer,
        name=offer.name if variant.name is None else variant.name,
        points=offer.points if variant.points is None else variant.points,
        multiplier=offer.multiplier if variant.multiplier is None else variant.multiplier,
        percent=offer.percent if variant.percent is None else variant.percent,
        amount=offer.amount if variant.amount is None else variant.amount,
    )


def assigned(member_id: int, offers: Sequence[Offer]) -> tuple[list[Offer], list[Assignment]]:
    """The offers as this member's arms present them (its holdouts left out), and its assignments
    to the offers' experiments, by offer id (the order they are recorded in)."""
    shown: list[Offer] = []
    assignments: list[Assignment] = []
    for offer in offers:
        experiment = offer.experiment
        if experiment is None:
            shown.append(offer)
            continue
        arm = arm_of(offer.id, experiment, member_id)
        assignments.append(Assignment(offer.id, experiment.id, member_id, arm))
        as_armed = in_arm(offer, arm)
        if as_armed is not None:
            shown.append(as_armed)
    return shown, sorted(assignments, key=lambda a: a.offer_id)


def check_experiment(offer: Offer, experiment: Experiment) -> Experiment:
    """The experiment, checked against the offer it runs on: holdout 0..5,000 bp, 1..10 variants with
    unique keys and positive weights, each changing only its mechanic's parameter, to a value the
    offer's own checks accept. Raises Validation naming the field."""
    if offer.trigger is not Trigger.PURCHASE:
        raise Validation("only purchase offers carry experiments", ("offerId",))
    if not 0 <= experiment.holdout_bp <= MAX_HOLDOUT_BP:
        raise Validation(f"between 0 and {MAX_HOLDOUT_BP} basis points", ("holdoutShare",))
    if not 0 <= experiment.margin_bp <= 10_000:
        raise Validation("between 0 and 10000 basis points", ("marginRate",))
    variants = experiment.variants
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise Validation(f"between 1 and {MAX_VARIANTS} variants", ("variants",))
    keys = [
        validation.text(v.key, ("variants", str(i), "key"), max_length=40) for i, v in enumerate(variants)
    ]
    if len(set(keys)) != len(keys):
        raise Validation("variant keys must be unique", ("variants", "key"))
    if HOLDOUT in keys:
        raise Validation(f"{HOLDOUT!r} names the holdout", ("variants", "key"))
    checked = []
    for i, variant in enumerate(variants):
        path = ("variants", str(i))
        validation.positive_int(variant.weight, (*path, "weight"))
        for name in _PARAMETERS:
            if getattr(variant, name) is not None and PARAMETER[offer.mechanic] != name:
                raise Validation(f"a {offer.mechanic.value} offer takes no {name}", (*path, name))
        message = validation.optional_text(variant.name, (*path, "name"), max_length=120)
        checked.append(replace(variant, key=keys[i], name=message))
    return replace(experiment, variants=tuple(checked))
