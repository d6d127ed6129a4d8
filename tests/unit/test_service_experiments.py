"""Setting an offer's experiment, over the fakes: a new version, audited; refusals change nothing;
new arms begin a new experiment, a changed parameter keeps it; updateOffer keeps the experiment and
refuses terms its variants no longer fit; the wallet records each member's arm once and lists no
holdout."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from domain.clock import FixedClock
from domain.errors import ErrorCode
from domain.experiments.assignment import arm_of
from domain.experiments.model import HOLDOUT, Experiment, Variant
from domain.merchants import Channel, MerchantCategory
from domain.money import Money
from domain.offers import Eligibility, Mechanic, Offer, OfferStatus
from domain.services.offers import change_offer_status, set_offer_experiment, update_offer
from domain.services.wallet_offers import UsableOffer, usable_offers
from tests.unit.fakes import FakeAssignmentLog, FakeDatabase, FakeOfferWalletReader, FakeUnitOfWork
from tests.unit.test_service_offers import NOW, create, draft
from tests.unit.test_services import ADMIN, given_member, member_actor, raised, snapshot

LATER = FixedClock(NOW.replace(hour=15))
AB = Experiment(
    0, NOW, 5_000, (Variant("five", 1, percent=Decimal(5)), Variant("eight", 1, percent=Decimal(8)))
)


def cashback(**fields: object) -> Offer:
    return draft(mechanic=Mechanic.CASHBACK_POINTS, points=0, percent=Decimal(5), **fields)


async def test_an_experiment_is_a_new_version_audited_and_begins_at_that_version() -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    uow = FakeUnitOfWork(db)

    stored = await set_offer_experiment(offer.id, AB, actor=ADMIN, uow=uow, clock=LATER)

    assert stored.version == 2
    assert stored.experiment == replace(AB, id=2, started_at=LATER.now())
    assert db.tables.offers[offer.id].experiment == stored.experiment
    [_, event] = db.tables.audit
    assert (event.action, event.target_id) == ("setOfferExperiment", offer.id)
    assert uow.commits == 1


async def test_a_changed_parameter_keeps_the_experiment_new_weights_begin_another_none_ends_it() -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    first = await set_offer_experiment(offer.id, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    nine = replace(AB, variants=(AB.variants[0], Variant("eight", 1, percent=Decimal(9))), margin_bp=2_000)
    kept = await set_offer_experiment(
        offer.id, nine, actor=ADMIN, uow=FakeUnitOfWork(db), clock=FixedClock(NOW)
    )
    assert kept.experiment is not None
    assert first.experiment is not None
    assert (kept.version, kept.experiment.id, kept.experiment.started_at) == (3, 2, LATER.now())
    assert kept.experiment.margin_bp == 2_000
    heavier = replace(nine, variants=(AB.variants[0], Variant("eight", 3, percent=Decimal(9))))
    again = await set_offer_experiment(offer.id, heavier, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    assert again.experiment is not None
    assert again.experiment.id == 4
    ended = await set_offer_experiment(offer.id, None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    assert ended.experiment is None


@pytest.mark.parametrize(
    ("experiment", "field"),
    [
        (replace(AB, holdout_bp=5_001), ("holdoutShare",)),
        (replace(AB, variants=(Variant("a", 1, percent=Decimal(0)),)), ("variants", "0", "percent")),
        (replace(AB, variants=(Variant("a", 1, points=3),)), ("variants", "0", "points")),
    ],
)
async def test_a_refused_experiment_changes_nothing(experiment: Experiment, field: tuple[str, ...]) -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    before = snapshot(db)
    refusal = await raised(
        set_offer_experiment(offer.id, experiment, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    )
    assert (refusal.code, refusal.field) == (ErrorCode.VALIDATION, field)
    assert db.tables == before


async def test_only_an_admin_sets_an_experiment_on_an_offer_that_exists() -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    member = await given_member(db)
    forbidden = await raised(
        set_offer_experiment(offer.id, AB, actor=member_actor(member.id), uow=FakeUnitOfWork(db), clock=LATER)
    )
    missing = await raised(set_offer_experiment(999, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER))
    assert (forbidden.code, missing.code) == (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)


async def test_update_offer_keeps_the_experiment_and_refuses_terms_its_variants_no_longer_fit() -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    armed = await set_offer_experiment(offer.id, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)

    renamed = await update_offer(
        replace(offer, name="Tea time", experiment=None), actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER
    )
    assert (renamed.name, renamed.experiment) == ("Tea time", armed.experiment)
    before = snapshot(db)
    bonus = replace(offer, mechanic=Mechanic.BONUS_POINTS, points=10, percent=Decimal(0))
    refusal = await raised(update_offer(bonus, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER))
    assert refusal.field == ("variants", "0", "percent")
    assert db.tables == before


async def test_the_wallet_records_each_arm_once_and_lists_no_holdout() -> None:
    db = FakeDatabase()
    offer = await create(
        db, cashback(eligibility=Eligibility(categories=frozenset({MerchantCategory.DINING})))
    )
    armed = await set_offer_experiment(offer.id, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    assert armed.experiment is not None
    log = FakeAssignmentLog(db)
    members = [await given_member(db, f"m{i}") for i in range(12)]
    for _ in range(2):
        for member in members:
            listed = await usable_offers(
                member.id,
                channel=None,
                category=None,
                uow=FakeUnitOfWork(db),
                reader=FakeOfferWalletReader(db),
                clock=LATER,
                log=log,
            )
            arm = arm_of(offer.id, armed.experiment, member.id)
            if arm == HOLDOUT:
                assert listed == []
            else:
                [line] = listed
                assert line.offer.percent == (5 if arm == "five" else 8)
    assert {key[2]: arm for key, (arm, _) in db.tables.assignments.items()} == {
        m.id: arm_of(offer.id, armed.experiment, m.id) for m in members
    }


async def test_the_wallet_records_no_arm_for_an_offer_of_another_channel_or_category_nor_without_a_log() -> (
    None
):
    db = FakeDatabase()
    offer = await create(
        db,
        cashback(
            eligibility=Eligibility(
                categories=frozenset({MerchantCategory.DINING}), channels=frozenset({Channel.OFFLINE})
            )
        ),
    )
    armed = await set_offer_experiment(offer.id, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    assert armed.experiment is not None
    member = await given_member(db)
    log = FakeAssignmentLog(db)

    async def listing(
        channel: Channel | None, category: MerchantCategory | None, *, logged: bool = True
    ) -> list[UsableOffer]:
        return await usable_offers(
            member.id,
            channel=channel,
            category=category,
            uow=FakeUnitOfWork(db),
            reader=FakeOfferWalletReader(db),
            clock=LATER,
            log=log if logged else None,
        )

    assert await listing(Channel.ONLINE, None) == []
    assert await listing(None, MerchantCategory.GROCERY) == []
    await listing(None, None, logged=False)
    assert db.tables.assignments == {}

    await listing(Channel.OFFLINE, MerchantCategory.DINING)

    assert list(db.tables.assignments.values()) == [
        (arm_of(offer.id, armed.experiment, member.id), LATER.now())
    ]


async def test_an_unknown_or_archived_offer_gets_no_experiment_and_the_refusal_says_why() -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    await change_offer_status(
        offer.id, OfferStatus.ARCHIVED, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER
    )
    before = snapshot(db)

    missing = await raised(set_offer_experiment(999, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER))
    archived = await raised(
        set_offer_experiment(offer.id, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    )

    assert [(e.code, e.message, e.field) for e in (missing, archived)] == [
        (ErrorCode.NOT_FOUND, "no such offer", ("offerId",)),
        (ErrorCode.VALIDATION, "an archived offer cannot be changed", ("offerId",)),
    ]
    assert db.tables == before


async def test_setting_and_ending_an_experiment_audits_the_offer_before_and_after() -> None:
    db = FakeDatabase()
    offer = await create(db, cashback())
    later = FixedClock(LATER.now().replace(hour=16))

    await set_offer_experiment(offer.id, AB, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    ended = await set_offer_experiment(offer.id, None, actor=ADMIN, uow=FakeUnitOfWork(db), clock=later)

    [_, setting, ending] = db.tables.audit
    assert [(e.actor, e.action, e.target_type, e.target_id, e.at) for e in (setting, ending)] == [
        (ADMIN.subject, "setOfferExperiment", "Offer", offer.id, LATER.now()),
        (ADMIN.subject, "setOfferExperiment", "Offer", offer.id, later.now()),
    ]
    assert setting.before is not None
    assert setting.after is not None
    assert (setting.before["version"], setting.before["experiment"]) == (1, None)
    assert (setting.after["version"], setting.after["experiment"]["id"]) == (2, 2)  # type: ignore[index]
    assert ending.before == setting.after
    assert ending.after is not None
    assert (ending.after["version"], ending.after["experiment"]) == (ended.version, None)


def discount(**fields: object) -> Offer:
    return draft(mechanic=Mechanic.INSTANT_DISCOUNT, points=0, amount=Money(500, "CNY"), **fields)


AMOUNTS = Experiment(
    0, NOW, 0, (Variant("three", 1, amount=Money(300, "CNY")), Variant("four", 1, amount=Money(400, "CNY")))
)


async def test_a_variants_amount_is_checked_against_the_programmes_currencies() -> None:
    db = FakeDatabase()
    offer = await create(db, discount())
    before = snapshot(db)
    dollars = replace(AMOUNTS, variants=(AMOUNTS.variants[0], Variant("four", 1, amount=Money(400, "USD"))))

    refusal = await raised(
        set_offer_experiment(offer.id, dollars, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    )
    assert (refusal.code, refusal.message, refusal.field) == (
        ErrorCode.VALIDATION,
        "currency 'USD' is not accepted by this programme",
        ("variants", "1", "amount", "currency"),
    )
    assert db.tables == before

    armed = await set_offer_experiment(offer.id, AMOUNTS, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)
    assert armed.experiment is not None
    assert [v.amount for v in armed.experiment.variants] == [Money(300, "CNY"), Money(400, "CNY")]


async def test_an_update_keeps_an_experiment_whose_variant_amounts_fit_the_programme() -> None:
    db = FakeDatabase()
    offer = await create(db, discount())
    armed = await set_offer_experiment(offer.id, AMOUNTS, actor=ADMIN, uow=FakeUnitOfWork(db), clock=LATER)

    renamed = await update_offer(
        replace(offer, name="Tea time", amount=Money(600, "CNY")),
        actor=ADMIN,
        uow=FakeUnitOfWork(db),
        clock=LATER,
    )

    assert (renamed.name, renamed.amount, renamed.experiment) == (
        "Tea time",
        Money(600, "CNY"),
        armed.experiment,
    )
    assert db.tables.offers[offer.id] == renamed
