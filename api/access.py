"""Who may read which object: one rule per Node type, used alike by node(id), the list queries and the
nested fields that expose the object, so no path shows more than the role's lists show it.

- admins read everything;
- a member reads itself and its own history (purchases and their refunds, redemptions, adjustments,
  transfers it sent or received, expirations, awards), the offers `me.eligibleOffers` shows it, the
  active rewards and the catalogue;
- a merchant reads the members linked to it (`linkMerchant`), its own purchases and their refunds, the POS
  redemptions it authorized, the offers it funds, the active rewards and the catalogue;
- a partner brand reads the offers it funds, the active rewards and the catalogue;
- anonymous callers read nothing.

The catalogue (merchants, partner brands, tiers) is what every authenticated caller lists.
A refusal is always `None`, whether the object exists or not. How much of a readable object each role
sees, field by field, is `api/field_policy.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.context import Info
from api.mutations.payload import retrying
from domain import offers as do
from domain import purchases as dp
from domain import refunds as drf
from domain import rewards as dr
from domain.actors import Actor, Role
from domain.errors import NotFound
from domain.merchants import Channel, MerchantCategory
from domain.movements import Transfer
from domain.services.wallet_offers import UsableOffer, usable_offers


def sees_everything(actor: Actor | None) -> bool:
    return actor is not None and actor.role is Role.ADMIN


# Merchant, PartnerBrand, Tier: the catalogue every authenticated caller lists.
def can_read_catalogue(info: Info) -> bool:
    return info.context.actor is not None


# Reward: the `rewards` list shows inactive ones to admins only.
def lists_inactive_rewards(actor: Actor | None) -> bool:
    return sees_everything(actor)


def can_read_reward(info: Info, reward: dr.Reward) -> bool:
    actor = info.context.actor
    return actor is not None and (reward.active or lists_inactive_rewards(actor))


# Member.
async def can_read_member(info: Info, member_id: int) -> bool:
    """Admins read everyone; a member only itself; a merchant the members linked to it."""
    actor = info.context.actor
    if actor is None:
        return False
    if actor.role is Role.ADMIN:
        return True
    if actor.role is Role.MEMBER:
        return actor.member_id == member_id
    if actor.role is Role.MERCHANT and actor.merchant_id is not None:
        return await info.context.reader.merchant_knows_member(actor.merchant_id, member_id)
    return False


# Adjustment, Expiration, MemberAward, and the member's own connections (ledger, redemptions ...).
def owns_member_data(info: Info, member_id: int) -> bool:
    """Admin, or the member itself: the callers allowed to see a member's own history."""
    actor = info.context.actor
    return actor is not None and (
        actor.role is Role.ADMIN or (actor.role is Role.MEMBER and actor.member_id == member_id)
    )


# Transfer: both sides hold it in their ledgers.
def can_read_transfer(info: Info, transfer: Transfer) -> bool:
    return owns_member_data(info, transfer.member_id) or owns_member_data(info, transfer.to_member_id)


# Purchase and Refund (a refund is read by whoever reads its purchase).
def can_read_purchase(info: Info, purchase: dp.Purchase | drf.Refund) -> bool:
    """The merchant it was made at, the member (and admins)."""
    actor = info.context.actor
    if actor is not None and actor.role is Role.MERCHANT:
        return actor.merchant_id == purchase.merchant_id
    return owns_member_data(info, purchase.member_id)


# Redemption.
def can_read_redemption(info: Info, redemption: dr.Redemption) -> bool:
    """Admin and the member, as for all its history; a merchant the POS redemptions it authorized."""
    actor = info.context.actor
    if actor is not None and actor.role is Role.MERCHANT:
        return redemption.merchant_id is not None and actor.merchant_id == redemption.merchant_id
    return owns_member_data(info, redemption.member_id)


# Offer: admins all; merchants and partner brands the offers they fund (the `offers` list); a member
# what `me.eligibleOffers` shows it (its `offers` list is empty).
def offer_funder(actor: Actor | None) -> tuple[do.FunderKind, int] | None:
    """The funder whose offers this caller lists, if it is a merchant or a partner brand."""
    if actor is None:
        return None
    if actor.role is Role.PARTNER and actor.partner_id is not None:
        return (do.FunderKind.PARTNER, actor.partner_id)
    if actor.role is Role.MERCHANT and actor.merchant_id is not None:
        return (do.FunderKind.MERCHANT, actor.merchant_id)
    return None


def funds_offer(info: Info, offer: do.Offer) -> bool:
    """Admins and the offer's funders: who sees its definition in `offers`, its usage and its report."""
    actor = info.context.actor
    if sees_everything(actor):
        return True
    funder = offer_funder(actor)
    return funder is not None and any((f.kind, f.funder_id) == funder for f in offer.funding)


async def member_eligible_offers(
    info: Info,
    member_id: int,
    channel: Channel | None = None,
    category: MerchantCategory | None = None,
) -> list[UsableOffer]:
    """The offers a member can use now, best for it first: its own list, read by itself or an admin."""
    if not owns_member_data(info, member_id):
        return []
    context = info.context
    try:
        return await retrying(
            info,
            lambda: usable_offers(
                member_id,
                channel=channel,
                category=category,
                uow=context.read_uow_factory(),
                reader=context.wallet_offers,
                clock=context.clock,
                log=context.assignments,
            ),
        )
    except NotFound:  # a token for a member that no longer exists lists nothing
        return []


async def readable_offers(info: Info, offers: Sequence[do.Offer | None]) -> list[bool]:
    """For each offer (None: not found), whether the caller may read it."""
    actor = info.context.actor
    present = [o for o in offers if o is not None]
    eligible: set[int] = set()
    if present and actor is not None and actor.role is Role.MEMBER and actor.member_id is not None:
        eligible = {line.offer.id for line in await member_eligible_offers(info, actor.member_id)}
    return [o is not None and (funds_offer(info, o) or o.id in eligible) for o in offers]
