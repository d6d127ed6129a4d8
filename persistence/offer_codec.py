"""An offer's definition as JSON, the form `offers` and `offer_versions` keep it in.

Money as [minor units, currency], decimals as text (exact), times as ISO 8601, sets as sorted lists.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.experiments.model import Experiment, Variant
from domain.members import IncomeBand
from domain.merchants import Channel, MerchantCategory
from domain.money import Money
from domain.offers import (
    CapPeriod,
    Eligibility,
    FirstPurchase,
    FunderKind,
    FundingShare,
    Limits,
    Mechanic,
    Offer,
    OfferStatus,
    Segment,
    Trigger,
    Window,
)


def to_json(offer: Offer) -> dict[str, Any]:
    """Everything that defines the offer except its id, version and status."""
    w, e, s, lim = offer.window, offer.eligibility, offer.eligibility.segment, offer.limits
    return {
        "name": offer.name,
        "mechanic": offer.mechanic.value,
        "window": {
            "starts_at": w.starts_at.isoformat(),
            "ends_at": w.ends_at.isoformat(),
            "days_of_week": sorted(w.days_of_week),
            "from_hour": w.from_hour,
            "to_hour": w.to_hour,
            "time_zone": w.time_zone,
        },
        "eligibility": {
            "merchant_ids": sorted(e.merchant_ids),
            "categories": sorted(c.value for c in e.categories),
            "partner_ids": sorted(e.partner_ids),
            "channels": sorted(c.value for c in e.channels),
            "minimum_spend": _money(e.minimum_spend),
            "new_members_within_days": e.new_members_within_days,
            "first_purchase": e.first_purchase.value if e.first_purchase else None,
            "referred_only": e.referred_only,
            "tier_ids": None if e.tier_ids is None else sorted(e.tier_ids),
            "segment_ids": None if e.segment_ids is None else sorted(e.segment_ids),
            "dormant_only": e.dormant_only,
            "segment": {
                "regions": sorted(s.regions),
                "income_bands": sorted(b.value for b in s.income_bands),
                "any_tags": sorted(s.any_tags),
                "born_from": s.born_from,
                "born_to": s.born_to,
            },
        },
        "funding": [
            {"kind": f.kind.value, "funder_id": f.funder_id, "percent": f.percent} for f in offer.funding
        ],
        "limits": {
            "budget_points": lim.budget_points,
            "budget_money": _money(lim.budget_money),
            "max_uses": lim.max_uses,
            "per_member": lim.per_member,
            "per_member_period": lim.per_member_period.value,
        },
        "points": offer.points,
        "multiplier": str(offer.multiplier),
        "amount": _money(offer.amount),
        "threshold": _money(offer.threshold),
        "percent": str(offer.percent),
        "cap": _money(offer.cap),
        "exclusive_group": offer.exclusive_group,
        "priority": offer.priority,
        "requires_coupon": offer.requires_coupon,
        "trigger": offer.trigger.value,
        "referrer_points": offer.referrer_points,
        "experiment": _experiment(offer.experiment),
    }


def from_json(offer_id: int, version: int, status: OfferStatus, d: dict[str, Any]) -> Offer:
    w, e, lim = d["window"], d["eligibility"], d["limits"]
    s = e["segment"]
    return Offer(
        id=offer_id,
        version=version,
        name=d["name"],
        mechanic=Mechanic(d["mechanic"]),
        window=Window(
            starts_at=datetime.fromisoformat(w["starts_at"]),
            ends_at=datetime.fromisoformat(w["ends_at"]),
            days_of_week=frozenset(w["days_of_week"]),
            from_hour=w["from_hour"],
            to_hour=w["to_hour"],
            time_zone=w["time_zone"],
        ),
        funding=tuple(
            FundingShare(FunderKind(f["kind"]), f["funder_id"], f["percent"]) for f in d["funding"]
        ),
        eligibility=Eligibility(
            merchant_ids=frozenset(e["merchant_ids"]),
            categories=frozenset(MerchantCategory(c) for c in e["categories"]),
            partner_ids=frozenset(e["partner_ids"]),
            channels=frozenset(Channel(c) for c in e["channels"]),
            minimum_spend=_from_money(e["minimum_spend"]),
            new_members_within_days=e["new_members_within_days"],
            first_purchase=FirstPurchase(e["first_purchase"]) if e.get("first_purchase") else None,
            referred_only=e.get("referred_only", False),
            tier_ids=None if e.get("tier_ids") is None else frozenset(e["tier_ids"]),
            segment_ids=None if e.get("segment_ids") is None else frozenset(e["segment_ids"]),
            dormant_only=e.get("dormant_only", False),
            segment=Segment(
                regions=frozenset(s["regions"]),
                income_bands=frozenset(IncomeBand(b) for b in s["income_bands"]),
                any_tags=frozenset(s["any_tags"]),
                born_from=s["born_from"],
                born_to=s["born_to"],
            ),
        ),
        limits=Limits(
            budget_points=lim["budget_points"],
            budget_money=_from_money(lim["budget_money"]),
            max_uses=lim["max_uses"],
            per_member=lim["per_member"],
            per_member_period=CapPeriod(lim["per_member_period"]),
        ),
        points=d["points"],
        multiplier=Decimal(d["multiplier"]),
        amount=_from_money(d["amount"]),
        threshold=_from_money(d["threshold"]),
        percent=Decimal(d["percent"]),
        cap=_from_money(d["cap"]),
        exclusive_group=d["exclusive_group"],
        priority=d["priority"],
        requires_coupon=d.get("requires_coupon", False),
        trigger=Trigger(d.get("trigger", Trigger.PURCHASE.value)),
        referrer_points=d.get("referrer_points", 0),
        status=status,
        experiment=_from_experiment(d.get("experiment")),
    )


def _money(m: Money | None) -> list[Any] | None:
    return None if m is None else [m.amount_minor, m.currency]


def _from_money(value: list[Any] | None) -> Money | None:
    return None if value is None else Money(int(value[0]), str(value[1]))


def _experiment(e: Experiment | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "id": e.id,
        "started_at": e.started_at.isoformat(),
        "holdout_bp": e.holdout_bp,
        "margin_bp": e.margin_bp,
        "variants": [
            {
                "key": v.key,
                "weight": v.weight,
                "name": v.name,
                "points": v.points,
                "multiplier": None if v.multiplier is None else str(v.multiplier),
                "percent": None if v.percent is None else str(v.percent),
                "amount": _money(v.amount),
            }
            for v in e.variants
        ],
    }


def _from_experiment(d: dict[str, Any] | None) -> Experiment | None:
    if d is None:
        return None
    return Experiment(
        id=d["id"],
        started_at=datetime.fromisoformat(d["started_at"]),
        holdout_bp=d["holdout_bp"],
        margin_bp=d.get("margin_bp", 0),
        variants=tuple(
            Variant(
                key=v["key"],
                weight=v["weight"],
                name=v["name"],
                points=v["points"],
                multiplier=None if v["multiplier"] is None else Decimal(v["multiplier"]),
                percent=None if v["percent"] is None else Decimal(v["percent"]),
                amount=_from_money(v["amount"]),
            )
            for v in d["variants"]
        ),
    )
