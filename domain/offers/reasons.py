"""Why an offer applies to a member, in words a wallet can show ("Gold members", "dining at Tea
House", "weekends 18:00-22:00"): one phrase per condition the offer places, in a fixed order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from domain.merchants import Channel
from domain.money import format_money
from domain.offers.model import FirstPurchase, Offer, Trigger, Window

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAYS = frozenset(range(1, 6))
_WEEKENDS = frozenset({6, 7})


@dataclass(frozen=True, slots=True)
class Names:
    """Display names by id, for the merchants, partner brands and tiers offers name."""

    merchants: Mapping[int, str] = field(default_factory=dict)
    partners: Mapping[int, str] = field(default_factory=dict)
    tiers: Mapping[int, str] = field(default_factory=dict)


def reasons(offer: Offer, names: Names) -> list[str]:
    """Why the offer applies: who, where, when and how; "every member" when it places no condition."""
    said = [*_how(offer), *_who(offer, names), *_where(offer, names), *_when(offer.window)]
    return said or ["every member"]


def _how(offer: Offer) -> list[str]:
    if offer.trigger is Trigger.RED_PACKET:
        return ["a red packet code in your wallet"]
    return ["a coupon in your wallet"] if offer.requires_coupon else []


def _who(offer: Offer, names: Names) -> list[str]:
    rules = offer.eligibility
    said = []
    if rules.tier_ids:
        said.append(f"{_listed(names.tiers.get(i, f'tier {i}') for i in sorted(rules.tier_ids))} members")
    segment = rules.segment
    if segment.regions:
        said.append(f"members in {_listed(sorted(segment.regions))}")
    if segment.income_bands:
        bands = sorted(b.value.lower().replace("_", " ") for b in segment.income_bands)
        said.append(f"{_listed(bands)} income")
    if segment.any_tags:
        said.append(f"members tagged {_listed(sorted(segment.any_tags))}")
    if segment.born_from is not None or segment.born_to is not None:
        said.append(_born(segment.born_from, segment.born_to))
    if rules.new_members_within_days is not None:
        said.append(f"members in their first {rules.new_members_within_days} days")
    if rules.referred_only:
        said.append("referred members")
    if rules.dormant_only:
        said.append("welcome back")
    if rules.segment_ids:
        said.append("picked for members like you")  # which segment is the marketer's business
    if rules.first_purchase is not None:
        said.append(_first(offer, names))
    return said


def _where(offer: Offer, names: Names) -> list[str]:
    rules = offer.eligibility
    place = " or ".join(sorted(c.value.lower().replace("_", " ") for c in rules.categories))
    if rules.merchant_ids:
        place = f"{place} at {_merchants(rules.merchant_ids, names)}".strip()
    if rules.partner_ids:
        brands = _listed(names.partners.get(i, f"partner {i}") for i in sorted(rules.partner_ids))
        place = f"{place} at {brands} merchants".strip()
    said = [place] if place else []
    if rules.channels and len(rules.channels) < len(Channel):
        said.append("online" if Channel.ONLINE in rules.channels else "in store")
    if rules.minimum_spend is not None:
        said.append(f"spend at least {format_money(rules.minimum_spend)}")
    if offer.threshold is not None:
        said.append(f"spend {format_money(offer.threshold)} or more")
    return said


def _when(window: Window) -> list[str]:
    days = window.days_of_week
    hours = (
        f"{window.from_hour:02d}:00-{window.to_hour:02d}:00"
        if window.from_hour is not None and window.to_hour is not None
        else ""
    )
    if len(days) == len(_DAY_NAMES):
        when = "every day"
    elif days == _WEEKENDS:
        when = "weekends"
    elif days == _WEEKDAYS:
        when = "weekdays"
    else:
        when = ", ".join(_DAY_NAMES[d - 1] for d in sorted(days))
    said = [f"{when} {hours}".strip()] if days or hours else []
    if said and window.time_zone != "UTC":
        said[0] += f" ({window.time_zone} time)"
    ends = window.ends_at.astimezone(ZoneInfo(window.time_zone))
    return [*said, f"until {ends:%Y-%m-%d %H:%M}"]


def _first(offer: Offer, names: Names) -> str:
    rules = offer.eligibility
    if rules.first_purchase is FirstPurchase.AT_MERCHANT and rules.merchant_ids:
        return f"your first purchase at {_merchants(rules.merchant_ids, names)}"
    if rules.first_purchase is FirstPurchase.AT_PARTNER and rules.partner_ids:
        brands = _listed(names.partners.get(i, f"partner {i}") for i in sorted(rules.partner_ids))
        return f"your first purchase at {brands}"
    if rules.first_purchase is FirstPurchase.EVER:
        return "your first purchase"
    return "your first purchase at a merchant"


def _merchants(ids: Iterable[int], names: Names) -> str:
    return _listed(names.merchants.get(i, f"merchant {i}") for i in sorted(ids))


def _born(born_from: int | None, born_to: int | None) -> str:
    if born_from is not None and born_to is not None:
        return f"members born {born_from}-{born_to}"
    if born_from is not None:
        return f"members born in {born_from} or later"
    return f"members born in {born_to} or earlier"


def _listed(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
