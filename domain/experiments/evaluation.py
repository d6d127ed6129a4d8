"""An experiment's figures per arm, from one row per assigned member (pure).

The read side gives, for every arm (each variant and the holdout), how many members were assigned,
exposed and took part, and each assigned member's spend in the period and in the pre-period (0 when it
bought nothing). Each variant is compared with the holdout: conversion, spend per member and the
incremental spend with Welch's interval, the CUPED-adjusted figure beside it, and mSPRT's always-valid
interval; the sample-ratio check runs over all arms, holdout included.

Exact figures (counts, totals, means of money) are Fractions; estimates are floats (statistics.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from domain.experiments.statistics import (
    AlwaysValid,
    CupedEstimate,
    Estimate,
    ProportionTest,
    SampleRatio,
    cuped_columns,
    msprt,
    roi,
    sample_ratio,
    two_proportions,
    welch,
)


@dataclass(frozen=True, slots=True)
class ArmSample:
    """One arm's members: `spend` and `pre_spend` hold one figure per assigned member in minor units,
    in the same member order; `pre_spend` may be empty when there is no pre-period (no CUPED then)."""

    arm: str
    assigned: int
    exposed: int
    participants: int
    spend: Sequence[int]
    pre_spend: Sequence[int]

    def __post_init__(self) -> None:
        if len(self.spend) != self.assigned:
            raise ValueError(f"arm {self.arm}: one spend figure per assigned member")
        if self.pre_spend and len(self.pre_spend) != self.assigned:
            raise ValueError(f"arm {self.arm}: pre_spend is empty or has one figure per assigned member")
        if not 0 <= self.participants <= self.assigned or self.exposed < 0:
            raise ValueError(f"arm {self.arm}: participants must be between 0 and the members assigned")


@dataclass(frozen=True, slots=True)
class ArmFigures:
    """An arm's own figures. Rates and means are None when nobody was assigned to it."""

    arm: str
    assigned: int
    exposed: int
    participants: int
    spend_total: int
    conversion_rate: Fraction | None  # participants / assigned
    spend_per_member: Fraction | None  # spend_total / assigned, minor units


@dataclass(frozen=True, slots=True)
class ArmEvaluation:
    """A variant against the holdout (`control` names it).

    `incremental_spend_per_member` is Welch's estimate of the difference in spend per assigned member;
    `incremental_spend` is that difference times the arm's members, exactly (the spend the offer added,
    in minor units; the basis of ROI); `cuped` is the same estimate adjusted by pre-period spend;
    `conversion` the z-test of participants / assigned; `always_valid` mSPRT's interval of the spend
    difference, which stays valid however often the report is read."""

    figures: ArmFigures
    control: str
    incremental_spend_per_member: Estimate
    incremental_spend: Fraction | None
    cuped: CupedEstimate | None  # None without pre-period figures
    conversion: ProportionTest
    always_valid: AlwaysValid


@dataclass(frozen=True, slots=True)
class ExperimentEvaluation:
    """Every variant against the holdout, the holdout's own figures, and the sample-ratio check."""

    holdout: ArmFigures
    arms: tuple[ArmEvaluation, ...]
    sample_ratio: SampleRatio


def arm_figures(arm: ArmSample) -> ArmFigures:
    """The arm's counts, its total spend and the exact rates per assigned member."""
    total = sum(arm.spend)
    return ArmFigures(
        arm=arm.arm,
        assigned=arm.assigned,
        exposed=arm.exposed,
        participants=arm.participants,
        spend_total=total,
        conversion_rate=Fraction(arm.participants, arm.assigned) if arm.assigned else None,
        spend_per_member=Fraction(total, arm.assigned) if arm.assigned else None,
    )


def compare_arm(arm: ArmSample, holdout: ArmSample, confidence: float = 0.95) -> ArmEvaluation:
    """The arm against the holdout at the given confidence (mSPRT at alpha = 1 - confidence)."""
    figures, control = arm_figures(arm), arm_figures(holdout)
    incremental = None
    if figures.spend_per_member is not None and control.spend_per_member is not None:
        incremental = (figures.spend_per_member - control.spend_per_member) * arm.assigned
    adjusted = None
    if arm.pre_spend and holdout.pre_spend:
        adjusted = cuped_columns(arm.spend, arm.pre_spend, holdout.spend, holdout.pre_spend, confidence)
    return ArmEvaluation(
        figures=figures,
        control=holdout.arm,
        incremental_spend_per_member=welch(arm.spend, holdout.spend, confidence),
        incremental_spend=incremental,
        cuped=adjusted,
        conversion=two_proportions(arm.participants, arm.assigned, holdout.participants, holdout.assigned),
        always_valid=msprt(arm.spend, holdout.spend, alpha=1 - confidence),
    )


def evaluate_experiment(
    arms: Sequence[ArmSample],
    holdout: ArmSample,
    expected_shares: Mapping[str, float],
    confidence: float = 0.95,
) -> ExperimentEvaluation:
    """Every arm against the holdout, and the chi-square check of the members assigned to each arm
    (holdout included) against `expected_shares`, the designed share of each arm by name."""
    every = [*arms, holdout]
    missing = [sample.arm for sample in every if sample.arm not in expected_shares]
    if missing:
        raise ValueError(f"no expected share for arm(s) {', '.join(missing)}")
    return ExperimentEvaluation(
        holdout=arm_figures(holdout),
        arms=tuple(compare_arm(arm, holdout, confidence) for arm in arms),
        sample_ratio=sample_ratio(
            [sample.assigned for sample in every], [expected_shares[sample.arm] for sample in every]
        ),
    )


def arm_roi(evaluation: ArmEvaluation, margin_rate: Fraction, cost: int) -> Fraction | None:
    """ROI of an arm: (incremental spend x margin rate - cost) / cost, with cost in the same minor units
    (points valued at the programme's point value, plus money). None without a holdout figure or cost."""
    if evaluation.incremental_spend is None:
        return None
    return roi(evaluation.incremental_spend * margin_rate, cost)
