"""The live-offer index (domain/offers/index.py) holds purchase offers only, whatever comes before
them in the list it is built from."""

from __future__ import annotations

from domain.offers import OfferIndex, Trigger
from tests.unit.test_offers import TEA, offer


def test_offers_that_are_not_for_purchases_are_left_out_and_the_rest_kept() -> None:
    index = OfferIndex(
        [
            offer(1, trigger=Trigger.SIGN_UP),
            offer(2),
            offer(3, trigger=Trigger.RED_PACKET),
            offer(4),
        ]
    )

    assert [o.id for o in index.for_merchant(TEA)] == [2, 4]
    # Asked again, the merchant gets the same answer.
    assert [o.id for o in index.for_merchant(TEA)] == [2, 4]
