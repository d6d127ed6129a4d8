"""Live purchase offers indexed by the merchant, category and partner they name."""

from __future__ import annotations

from collections.abc import Sequence

from domain.merchants import Merchant
from domain.offers.model import Offer, Trigger


class OfferIndex:
    """Live offers by the merchant, category and partner they name, so a purchase looks only at the
    ones that could apply to its merchant. A superset: `evaluate` still checks every condition."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        self.offers = list(offers)
        self._general: list[Offer] = []
        self._keyed: dict[tuple[str, object], list[Offer]] = {}
        for offer in self.offers:
            if offer.trigger is not Trigger.PURCHASE:
                continue
            rules = offer.eligibility
            keys: list[tuple[str, object]] = [("merchant", m) for m in rules.merchant_ids]
            if not keys:
                keys = [("category", c) for c in rules.categories] or [
                    ("partner", p) for p in rules.partner_ids
                ]
            if not keys:
                self._general.append(offer)
            for key in keys:
                self._keyed.setdefault(key, []).append(offer)
        self._by_merchant: dict[int, list[Offer]] = {}

    def for_merchant(self, merchant: Merchant) -> list[Offer]:
        found = self._by_merchant.get(merchant.id)
        if found is None:
            keys = [
                ("merchant", merchant.id),
                ("category", merchant.category),
                ("partner", merchant.partner_id),
            ]
            chosen = {o.id: o for o in self._general}
            for key in keys:
                chosen.update((o.id, o) for o in self._keyed.get(key, ()))
            found = self._by_merchant[merchant.id] = sorted(chosen.values(), key=lambda o: o.id)
        return found
