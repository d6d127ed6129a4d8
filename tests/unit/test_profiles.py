"""The behavioural profile's arithmetic (domain/profiles.py): windows and their first and last days,
refunds, currencies, shares that sum to exactly 10,000, the average ticket's rounding, the lifecycle
stages at each threshold, and the pruning job and the rules' update over the fakes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain import profiles as dp
from domain.actors import Actor, Role
from domain.clock import FixedClock
from domain.errors import Forbidden, Validation
from domain.merchants import Channel, MerchantCategory
from domain.money import Money
from domain.programme import Programme
from domain.services.profiles import prune_activity, update_lifecycle_rules
from domain.tiers import Tier
from tests.unit.fakes import FakeDatabase, FakeUnitOfWork

TODAY = date(2026, 11, 27)
RULES = dp.LifecycleRules()
ADMIN = Actor(role=Role.ADMIN, subject="admin-ada")

pytestmark = pytest.mark.asyncio


def row(
    days_ago: int,
    spend: int,
    *,
    purchases: int = 1,
    merchant: int = 1,
    category: MerchantCategory = MerchantCategory.DINING,
    channel: Channel = Channel.OFFLINE,
    currency: str = "CNY",
) -> dp.DayActivity:
    return dp.DayActivity(
        TODAY - timedelta(days=days_ago), merchant, category, channel, currency, purchases, spend
    )


def profile(rows: list[dp.DayActivity], today: date = TODAY, **kwargs: object) -> dp.Insights:
    options: dict[str, object] = {
        "currency": "CNY",
        "today": today,
        "enrolled_on": date(2020, 1, 1),
        "marked_dormant": False,
        "rules": RULES,
    }
    return dp.insights(rows, **(options | kwargs))  # type: ignore[arg-type]  # the keywords above


def windows(found: dp.Insights) -> dict[int, tuple[int, int]]:
    return {w.days: (w.purchases, w.spend_minor) for w in found.windows}


async def test_a_window_holds_today_and_the_days_before_it_and_no_more() -> None:
    found = profile(
        [row(0, 1), row(29, 10), row(30, 100), row(89, 1_000), row(90, 10_000), row(364, 100_000)]
    )
    assert windows(found) == {30: (2, 11), 90: (4, 1_111), 365: (6, 111_111)}
    assert windows(profile([row(365, 5), row(-1, 7)])) == {30: (0, 0), 90: (0, 0), 365: (0, 0)}
    assert dp.window_start(TODAY, 30) == date(2026, 10, 29)
    assert dp.window_start(TODAY, 1) == TODAY


async def test_the_windows_roll_with_the_clock() -> None:
    rows = [row(0, 500)]
    assert windows(profile(rows, today=TODAY + timedelta(days=29)))[30] == (1, 500)
    assert windows(profile(rows, today=TODAY + timedelta(days=30)))[30] == (0, 0)
    assert windows(profile(rows, today=TODAY + timedelta(days=89)))[90] == (1, 500)
    assert windows(profile(rows, today=TODAY + timedelta(days=90)))[90] == (0, 0)
    assert windows(profile(rows, today=TODAY + timedelta(days=364)))[365] == (1, 500)
    assert windows(profile(rows, today=TODAY + timedelta(days=365)))[365] == (0, 0)


async def test_other_currencies_count_as_purchases_but_never_as_spend() -> None:
    found = profile([row(1, 1_000), row(1, 9_999, currency="USD", channel=Channel.ONLINE)])
    assert windows(found)[30] == (2, 1_000)
    assert [(c.category, c.purchases, c.spend_minor) for c in found.categories] == [
        (MerchantCategory.DINING, 1, 1_000)
    ]
    assert [(c.channel, c.purchases) for c in found.channels] == [(Channel.OFFLINE, 1), (Channel.ONLINE, 1)]
    assert found.average_ticket_minor == 500  # 1,000 spent in CNY over two purchases


async def test_refund_changes_net_the_purchase_out_on_its_own_day() -> None:
    at = datetime(2026, 11, 20, 23, 30, tzinfo=timezone(timedelta(hours=-8)))  # 21 Nov in UTC
    bought = dp.purchase_activity(7, 3, Channel.ONLINE, "CNY", 5_000, at)
    part = dp.refund_activity(7, 3, Channel.ONLINE, "CNY", at, 2_000, completes_refund=False)
    rest = dp.refund_activity(7, 3, Channel.ONLINE, "CNY", at, 3_000, completes_refund=True)
    assert bought == dp.ActivityChange(7, date(2026, 11, 21), 3, Channel.ONLINE, "CNY", 1, 5_000)
    assert dp.merged([bought, part]) == [
        dp.ActivityChange(7, date(2026, 11, 21), 3, Channel.ONLINE, "CNY", 1, 3_000)
    ]
    assert dp.merged([bought, part, rest]) == [
        dp.ActivityChange(7, date(2026, 11, 21), 3, Channel.ONLINE, "CNY", 0, 0)
    ]
    assert dp.utc_day(datetime(2026, 11, 21, 1, 0)) == date(2026, 11, 21)  # no zone: taken as UTC


async def test_merged_adds_changes_to_the_same_row_and_orders_rows_by_key() -> None:
    a = dp.ActivityChange(2, TODAY, 1, Channel.OFFLINE, "CNY", 1, 100)
    b = dp.ActivityChange(1, TODAY, 1, Channel.OFFLINE, "CNY", 1, 50)
    c = dp.ActivityChange(2, TODAY, 1, Channel.OFFLINE, "CNY", 1, 25)
    assert dp.merged([a, b, c]) == [b, dp.ActivityChange(2, TODAY, 1, Channel.OFFLINE, "CNY", 2, 125)]


async def test_shares_are_floored_then_the_largest_remainders_take_what_is_left() -> None:
    assert dp.shares([1, 1, 1]) == [3334, 3333, 3333]  # equal remainders: the earlier first
    assert dp.shares([120_000, 15_000, 4_321]) == [8613, 1077, 310]
    assert dp.shares([5, 0]) == [10_000, 0]
    assert dp.shares([0, 0]) == [0, 0]
    assert dp.shares([]) == []
    assert dp.shares([2, 1], whole=100) == [67, 33]
    assert sum(dp.shares([7, 11, 13, 17, 19])) == 10_000


async def test_categories_merchants_and_months_are_ordered_and_complete() -> None:
    rows = [
        row(1, 3_000, merchant=1),
        row(2, 3_000, merchant=2, category=MerchantCategory.TRAVEL, channel=Channel.ONLINE),
        row(40, 1_000, merchant=3, category=MerchantCategory.GROCERY),
        row(41, 1_000, merchant=4, category=MerchantCategory.GROCERY),
        *(row(100 + m, 10, merchant=10 + m) for m in range(4)),
    ]
    found = profile(rows)
    # 3,040 / 8,040 = 3781.09, 3,000 / 8,040 = 3731.34, 2,000 / 8,040 = 2487.56 basis points: the
    # floors leave one, which goes to the largest remainder.
    assert [(c.category, c.spend_minor, c.share_basis_points) for c in found.categories] == [
        (MerchantCategory.DINING, 3_040, 3781),  # 3,000 + 4 x 10 at the small merchants
        (MerchantCategory.TRAVEL, 3_000, 3731),
        (MerchantCategory.GROCERY, 2_000, 2488),
    ]
    assert sum(c.share_basis_points for c in found.categories) == 10_000
    assert [m.merchant_id for m in found.top_merchants] == [1, 2, 3, 4, 10]  # spend, then id
    assert len(found.top_merchants) == dp.TOP_MERCHANTS
    assert found.channels[0] == dp.ChannelUse(Channel.OFFLINE, 7)
    assert found.months[0].month <= found.months[-1].month
    assert sum(m.spend_minor for m in found.months) == 8_040
    assert {m.month for m in found.months} <= {f"{TODAY.year}-{m:02d}" for m in range(1, 13)} | {
        f"{TODAY.year - 1}-{m:02d}" for m in range(1, 13)
    }


async def test_months_reach_back_twelve_calendar_months_only() -> None:
    found = profile(
        [row(0, 1), row((TODAY - date(2025, 12, 1)).days, 2), row((TODAY - date(2025, 11, 30)).days, 4)]
    )
    assert [(m.month, m.spend_minor) for m in found.months] == [("2025-12", 2), ("2026-11", 1)]


async def test_the_average_ticket_rounds_half_to_even() -> None:
    assert profile([row(1, 5, purchases=2)]).average_ticket_minor == 2  # 2.5 -> 2
    assert profile([row(1, 7, purchases=2)]).average_ticket_minor == 4  # 3.5 -> 4
    assert profile([row(1, 10, purchases=3)]).average_ticket_minor == 3  # 3.33 -> 3
    assert profile([row(1, 11, purchases=3)]).average_ticket_minor == 4  # 3.67 -> 4
    assert profile([]).average_ticket_minor is None
    assert profile([]).last_purchase_day is None


async def test_each_stage_begins_on_its_threshold_day() -> None:
    enrolled = date(2025, 1, 1)

    def stage(idle: int | None, *, enrolled_on: date = enrolled, dormant: bool = False) -> dp.LifecycleStage:
        last = None if idle is None else TODAY - timedelta(days=idle)
        return dp.stage(
            RULES, today=TODAY, enrolled_on=enrolled_on, last_purchase=last, marked_dormant=dormant
        )

    assert stage(0, enrolled_on=TODAY - timedelta(days=29)) is dp.LifecycleStage.NEW
    assert stage(None, enrolled_on=TODAY - timedelta(days=29)) is dp.LifecycleStage.NEW
    assert stage(0, enrolled_on=TODAY - timedelta(days=30)) is dp.LifecycleStage.ACTIVE
    assert stage(59) is dp.LifecycleStage.ACTIVE
    assert stage(60) is dp.LifecycleStage.AT_RISK
    assert stage(119) is dp.LifecycleStage.AT_RISK
    assert stage(120) is dp.LifecycleStage.DORMANT
    assert stage(10, dormant=True) is dp.LifecycleStage.DORMANT
    assert stage(364) is dp.LifecycleStage.DORMANT
    assert stage(365) is dp.LifecycleStage.CHURNED
    assert stage(None) is dp.LifecycleStage.CHURNED  # enrolled long ago and never bought
    assert stage(None, enrolled_on=TODAY - timedelta(days=45)) is dp.LifecycleStage.ACTIVE
    assert profile([row(70, 1)]).stage is dp.LifecycleStage.AT_RISK
    assert profile([row(70, 1)]).last_purchase_day == TODAY - timedelta(days=70)


async def test_lifecycle_rules_must_be_in_order_and_within_a_year() -> None:
    assert dp.LifecycleRules(0, 1, 2, 365).validated() == dp.LifecycleRules(0, 1, 2, 365)
    cases = [
        (dp.LifecycleRules(-1, 60, 120, 365), "newMemberDays"),
        (dp.LifecycleRules(366, 60, 120, 365), "newMemberDays"),
        (dp.LifecycleRules(30, 0, 120, 365), "atRiskAfterDays"),
        (dp.LifecycleRules(30, 120, 120, 365), "atRiskAfterDays"),
        (dp.LifecycleRules(30, 60, 365, 365), "atRiskAfterDays"),
        (dp.LifecycleRules(30, 60, 120, 366), "churnedAfterDays"),
    ]
    for rules, field in cases:
        with pytest.raises(Validation) as refused:
            rules.validated()
        assert refused.value.field == (field,)


async def test_update_lifecycle_rules_is_for_admins_and_audited() -> None:
    db = FakeDatabase()
    clock = FixedClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    wanted = dp.LifecycleRules(7, 30, 60, 90)
    assert await update_lifecycle_rules(wanted, actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock) == wanted
    assert db.tables.profiles.lifecycle_rules == wanted
    [event] = db.tables.audit
    assert (event.action, event.actor, event.target_type, event.target_id, event.at) == (
        "updateLifecycleRules",
        "admin-ada",
        "Programme",
        1,
        clock.now(),
    )
    assert (event.before, event.after) == (
        {
            "new_member_days": 30,
            "at_risk_after_days": 60,
            "dormant_after_days": 120,
            "churned_after_days": 365,
        },
        {"new_member_days": 7, "at_risk_after_days": 30, "dormant_after_days": 60, "churned_after_days": 90},
    )
    member = Actor(role=Role.MEMBER, subject="m-1", member_id=1)
    with pytest.raises(Forbidden):
        await update_lifecycle_rules(RULES, actor=member, uow=FakeUnitOfWork(db), clock=clock)
    with pytest.raises(Validation):
        await update_lifecycle_rules(
            dp.LifecycleRules(1, 5, 5, 9), actor=ADMIN, uow=FakeUnitOfWork(db), clock=clock
        )
    assert db.tables.profiles.lifecycle_rules == wanted
    assert len(db.tables.audit) == 1


async def test_pruning_drops_the_days_past_the_retention_a_day_at_a_time() -> None:
    db = FakeDatabase()
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    first_kept = now.date() - timedelta(days=dp.RETENTION_DAYS - 1)
    uow = FakeUnitOfWork(db)
    async with uow:
        await uow.profiles.add(
            [
                dp.ActivityChange(1, first_kept - timedelta(days=2), 1, Channel.OFFLINE, "CNY", 1, 10),
                dp.ActivityChange(2, first_kept - timedelta(days=2), 1, Channel.OFFLINE, "CNY", 1, 10),
                dp.ActivityChange(1, first_kept - timedelta(days=1), 1, Channel.OFFLINE, "CNY", 1, 10),
                dp.ActivityChange(1, first_kept, 1, Channel.OFFLINE, "CNY", 1, 10),
            ]
        )
        await uow.commit()
    seen: list[int] = []
    run = await prune_activity(lambda: FakeUnitOfWork(db), FixedClock(now), seen.append)
    assert (run.days, run.rows, seen) == (2, 3, [1, 2])
    assert [key[1] for key in db.tables.profiles.activity] == [first_kept]
    again = await prune_activity(lambda: FakeUnitOfWork(db), FixedClock(now))
    assert (again.days, again.rows) == (0, 0)


async def test_a_fully_refunded_channel_or_merchant_is_left_out_but_keeps_its_category() -> None:
    # A purchase and its full refund leave a row of 0 purchases and 0 spend.
    found = profile([row(1, 100), row(0, 0, purchases=0, merchant=2, channel=Channel.ONLINE)])
    assert found.channels == (dp.ChannelUse(Channel.OFFLINE, 1),)
    assert found.top_merchants == (dp.MerchantSpend(1, 1, 100),)
    assert found.last_purchase_day == TODAY - timedelta(days=1)  # today's refunded row is no purchase


async def test_a_negative_category_spend_gets_no_share() -> None:
    # A refund can outweigh a category's in-window spend (its purchase fell out of the window).
    found = profile([row(1, 300), row(2, -50, purchases=0, category=MerchantCategory.TRAVEL)])
    assert [(c.category, c.purchases, c.spend_minor, c.share_basis_points) for c in found.categories] == [
        (MerchantCategory.DINING, 1, 300, 10_000),
        (MerchantCategory.TRAVEL, 0, -50, 0),
    ]


async def test_equal_spend_orders_categories_by_name_and_merchants_by_count_then_id() -> None:
    found = profile(
        [
            row(1, 100, merchant=9, category=MerchantCategory.TRAVEL),
            row(1, 100, merchant=8, category=MerchantCategory.DINING),
            row(1, 100, purchases=2, merchant=7, category=MerchantCategory.GROCERY),
        ]
    )
    assert [(c.category, c.share_basis_points) for c in found.categories] == [
        (MerchantCategory.DINING, 3334),
        (MerchantCategory.GROCERY, 3333),
        (MerchantCategory.TRAVEL, 3333),
    ]
    assert found.top_merchants == (
        dp.MerchantSpend(7, 2, 100),
        dp.MerchantSpend(8, 1, 100),
        dp.MerchantSpend(9, 1, 100),
    )


async def test_channels_are_ordered_by_use_then_name() -> None:
    assert profile([row(1, 1, channel=Channel.ONLINE), row(1, 1)]).channels == (
        dp.ChannelUse(Channel.OFFLINE, 1),
        dp.ChannelUse(Channel.ONLINE, 1),
    )
    assert profile([row(1, 1, channel=Channel.ONLINE, purchases=2), row(1, 1)]).channels == (
        dp.ChannelUse(Channel.ONLINE, 2),
        dp.ChannelUse(Channel.OFFLINE, 1),
    )


async def test_months_split_by_category_and_are_ordered_by_month_then_category() -> None:
    found = profile(
        [
            row(0, 1, category=MerchantCategory.TRAVEL),
            row(0, 2),
            row(0, 4),
            row(40, 8, category=MerchantCategory.GROCERY),
            row(1, 16, currency="USD"),
        ]
    )
    assert found.months == (
        dp.MonthCategorySpend("2026-10", MerchantCategory.GROCERY, 8),
        dp.MonthCategorySpend("2026-11", MerchantCategory.DINING, 6),
        dp.MonthCategorySpend("2026-11", MerchantCategory.TRAVEL, 1),
    )


async def test_months_reach_back_across_the_new_year() -> None:
    january = date(2027, 1, 15)
    assert dp._month_start(january, dp.MONTHS_SHOWN - 1) == date(2026, 2, 1)
    assert dp._month_start(january, 0) == date(2027, 1, 1)
    assert dp._month_start(date(2026, 12, 31), 0) == date(2026, 12, 1)
    found = profile(
        [row((TODAY - date(2026, 2, 1)).days, 3), row((TODAY - date(2026, 1, 31)).days, 5)],
        today=january,
    )
    assert [(m.month, m.spend_minor) for m in found.months] == [("2026-02", 3)]


async def test_insights_carry_the_currency_and_a_window_per_length() -> None:
    found = profile([row(1, 10, currency="USD")], currency="USD")
    assert found.currency == "USD"
    assert found.windows == (dp.Window(30, 1, 10), dp.Window(90, 1, 10), dp.Window(365, 1, 10))
    assert found.average_ticket_minor == 10
    assert profile([], enrolled_on=TODAY, marked_dormant=True).stage is dp.LifecycleStage.NEW
    assert profile([row(1, 1)], marked_dormant=True).stage is dp.LifecycleStage.DORMANT


async def test_the_average_ticket_of_a_negative_spend_rounds_half_to_even() -> None:
    assert dp._half_even(-5, 2) == -2  # -2.5 -> -2
    assert dp._half_even(-7, 2) == -4  # -3.5 -> -4
    assert dp._half_even(9, 2) == 4  # 4.5 -> 4
    assert dp._half_even(1, 0) is None
    assert dp._half_even(1, -1) is None
    assert dp._half_even(5, 10) == 0  # 0.5 -> 0
    assert dp._half_even(6, 10) == 1


async def test_the_profile_currency_is_the_ladders_else_the_first_accepted() -> None:
    programme = Programme(
        name="p", points_validity_months=12, earn_rates={"USD": Decimal(1), "CNY": Decimal(1)}
    )
    assert dp.profile_currency(programme, []) == "CNY"
    assert dp.profile_currency(programme, [tier_spending("USD")]) == "USD"


async def test_lifecycle_rule_refusals_say_the_bounds() -> None:
    with pytest.raises(Validation, match=r"^must be between 0 and 365 days$"):
        dp.LifecycleRules(366, 60, 120, 365).validated()
    with pytest.raises(Validation, match=r"^must be 0 < atRiskAfterDays < dormantAfterDays"):
        dp.LifecycleRules(30, 60, 60, 365).validated()
    with pytest.raises(Validation, match=r"^must be at most 365 days$"):
        dp.LifecycleRules(30, 60, 120, 366).validated()
    assert dp.LifecycleRules(365, 1, 2, 3).validated().new_member_days == 365
    assert dp.LifecycleRules(30, 60, 120, 364).validated().churned_after_days == 364


async def test_retention_outlasts_the_longest_window() -> None:
    assert (dp.WINDOWS, dp.LONGEST_WINDOW, dp.RETENTION_DAYS) == ((30, 90, 365), 365, 400)
    assert (dp.TOP_MERCHANTS, dp.MONTHS_SHOWN, dp.BASIS_POINTS) == (5, 12, 10_000)


def tier_spending(currency: str) -> Tier:
    return Tier(id=1, code="GOLD", name="Gold", rank=1, min_spend=Money(1_000, currency))


async def test_the_utc_day_ignores_the_machines_own_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # 21:00 UTC on the 21st is already the 22nd in Shanghai: the day must come from UTC, not local time.
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        at = datetime(2026, 11, 21, 20, 0, tzinfo=timezone(timedelta(hours=-1)))
        assert dp.utc_day(at) == date(2026, 11, 21)
        # A time without a zone is UTC already, not the machine's local time (01:00 in Shanghai is
        # still the 20th in UTC).
        assert dp.utc_day(datetime(2026, 11, 21, 1, 0)) == date(2026, 11, 21)
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_a_single_minor_unit_takes_the_whole_share() -> None:
    assert dp.shares([1]) == [10_000]
    assert dp.shares([0, 1]) == [0, 10_000]


async def test_the_average_ticket_is_over_the_whole_year() -> None:
    # 300 in the last 90 days and 900 before them: the year's 1,200 over 3 purchases.
    found = profile([row(1, 300), row(200, 900, purchases=2)])
    assert found.average_ticket_minor == 400


async def test_top_merchants_order_by_spend_then_more_purchases_not_by_id() -> None:
    found = profile(
        [
            row(1, 100, merchant=1),
            row(1, 500, merchant=2),
            row(1, 100, purchases=3, merchant=3),
        ]
    )
    assert found.top_merchants == (
        dp.MerchantSpend(2, 1, 500),
        dp.MerchantSpend(3, 3, 100),
        dp.MerchantSpend(1, 1, 100),
    )
