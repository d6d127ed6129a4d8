"""The console's pure parts: SVG plots (escaped, scaled with integers), its CSRF token and return
paths, ids in URLs, money shown from minor units, and the segment builder's rows as rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.console import _safe_next
from api.console.charts import Bar, Interval, bar_chart, burn_gauge, forest, line_chart, percent_of, sparkline
from api.console.ids import global_id, local_id
from api.console.pages import arms
from api.console.pages.audit import _change
from api.console.pages.segments import Row, condition, rules_of
from api.console.session import csrf_token, csrf_valid
from api.console.web import minor, when


def test_bars_scale_to_the_largest_value_and_escape_their_text() -> None:
    svg = bar_chart(
        "<cost>", [Bar("A & B", 300, "300 pts"), Bar("<script>", 100, "100"), Bar("none", 0, "0")]
    )
    assert "<title>&lt;cost&gt;</title>" in svg
    assert "A &amp; B" in svg
    assert "<script>" not in svg
    widths = [int(part.split('"')[0]) for part in svg.split(' width="')[2:]]
    assert widths == [280, 93, 0]  # 560 - 170 - 110 = 280 for the largest; integer division


def test_a_gauge_fills_its_share_and_stops_at_the_track_when_over_budget() -> None:
    assert 'width="270"' in burn_gauge("t", 50, 100, "50 of 100")  # half of 540
    over = burn_gauge("t", 150, 100, "150 of 100")
    assert 'width="540" height="22" rx="3"/><text' in over
    assert "bar-warning" in over
    assert 'class="bar bar-primary" x="10" y="8" width="0"' in burn_gauge("t", 5, 0, "no budget")


@pytest.mark.parametrize(
    ("part", "whole", "shown"), [(1, 3, "33%"), (2, 3, "66%"), (0, 5, "0%"), (5, 0, "-"), (7, 7, "100%")]
)
def test_shares_are_whole_percent_rounded_down(part: int, whole: int, shown: str) -> None:
    assert percent_of(part, whole) == shown


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [(12850, "CNY", "128.50 CNY"), (5, "", "0.05"), (-199, "", "-1.99"), (123456789, "", "1,234,567.89")],
)
def test_money_is_shown_from_minor_units_without_floats(value: int, currency: str, shown: str) -> None:
    assert minor(value, currency) == shown


def test_times_are_shown_in_utc_to_the_minute() -> None:
    assert when("2026-11-28T02:30:59+00:00") == "2026-11-28 02:30 UTC"
    assert when(None) == "-"
    assert when("not a time") == "not a time"


def test_the_csrf_token_belongs_to_one_session() -> None:
    token = csrf_token("session-a")
    assert csrf_valid("session-a", token)
    assert not csrf_valid("session-b", token)
    assert not csrf_valid("session-a", "")
    assert "=" not in token


@pytest.mark.parametrize(
    ("given", "goes_to"),
    [
        ("/console/offers", "/console/offers"),
        ("//evil.example/console/", "/console/members"),
        ("https://evil.example/console/x", "/console/members"),
        ("/console/\\evil.example", "/console/members"),
        ("/graphql", "/console/members"),
        ("", "/console/members"),
    ],
)
def test_signing_in_returns_only_to_a_console_page(given: str, goes_to: str) -> None:
    assert _safe_next(given) == goes_to


def test_urls_carry_plain_numbers_and_queries_the_apis_ids() -> None:
    assert global_id("Member", 12) == "TWVtYmVyOjEy"
    assert local_id("TWVtYmVyOjEy") == 12
    assert local_id("not base64!") == 0
    assert local_id(global_id("Member", 0)[:-1]) == 0


def test_builder_rows_become_conditions_of_the_right_kind() -> None:
    assert condition(Row("AVAILABLE_POINTS", "GTE", "200")) == {
        "field": "AVAILABLE_POINTS",
        "op": "GTE",
        "number": 200,
    }
    assert condition(Row("REGION", "IN", "Shanghai, Hangzhou,")) == {
        "field": "REGION",
        "op": "IN",
        "values": ["Shanghai", "Hangzhou"],
    }
    assert condition(Row("TAG", "EQ", "coffee")) == {"field": "TAG", "op": "EQ", "text": "coffee"}
    assert condition(Row("CATEGORY_SPEND_365D", "GT", "100", "DINING"))["category"] == "DINING"
    # Not a number: passed on as text, for the API to refuse with its own message.
    assert condition(Row("SPEND_30D", "GT", "lots"))["text"] == "lots"
    one, two = Row("TAG", "EQ", "a"), Row("TAG", "EQ", "b")
    assert rules_of([one], "all") == {"condition": condition(one)}
    assert rules_of([one, two], "any") == {
        "any": [{"condition": condition(one)}, {"condition": condition(two)}]
    }


def test_a_sparkline_spans_its_own_range() -> None:
    line = sparkline("sizes", [10, 20, 15])
    assert 'points="2,32 80,4 158,18"' in line  # low at the bottom (4 + 28), high at the top
    assert 'points="2,4 158,4"' in sparkline("one day", [7])
    assert sparkline("nothing", []) == ""


def test_an_audit_row_shows_the_fields_that_changed() -> None:
    before = {"status": "ACTIVE", "points": 50, "name": "Lunch"}
    after = {"status": "PAUSED", "points": 50, "name": "Lunch", "note": "x" * 100}
    assert _change(before, after) == ['note: null → "' + "x" * 58 + "…", 'status: "ACTIVE" → "PAUSED"']
    assert _change(None, {"id": 1}) == ['set: {"id": 1}']
    assert _change({"id": 1}, None) == ['before: {"id": 1}']
    assert _change(None, None) == []


def test_a_forest_plot_puts_zero_and_each_interval_on_one_axis() -> None:
    svg = forest(
        "lift",
        [Interval("a", Decimal(50), Decimal(-50), Decimal(150)), Interval("<b>", None, None, None)],
    )
    # axis from -50 to 150 over 560 - 170 - 30 = 360 pixels, starting at 180
    assert '<line class="axis" x1="270"' in svg
    assert 'x1="180" y1="21" x2="540" y2="21"' in svg
    assert 'cx="360"' in svg
    assert "&lt;b&gt;" in svg
    assert "no data" in svg


def test_a_line_rises_to_its_largest_value_and_names_its_ends() -> None:
    svg = line_chart("burn", ["2026-01-01", "2026-01-02", "2026-01-03"], [0, 50, 100], "1.00 CNY")
    assert 'points="20,150 280,85 540,20"' in svg
    assert "2026-01-01" in svg
    assert "2026-01-03" in svg
    assert line_chart("none", [], [], "") == ""


def test_a_flagged_sample_ratio_is_a_clear_warning_and_no_experiment_means_no_panels() -> None:
    check = {"statistic": 40.5, "degreesOfFreedom": 2, "pValue": 0.0000001, "mismatch": True}
    panel = arms.sample_ratio({"experiment": {"arms": [], "sampleRatio": check}})
    assert panel is not None
    assert panel.warning.startswith("Sample ratio mismatch")
    assert panel.rows == [["40.50", "2", "< 0.001", "no"]]
    assert all(build({"experiment": None}) is None for build in arms.PANELS)


def test_money_per_member_is_shown_to_the_cent_from_exact_minor_units() -> None:
    assert arms._money("123456.5", "CNY") == "1,234.56 CNY"  # half to even: 1234.565 -> 1234.56
    assert arms._money("-250", "CNY") == "-2.50 CNY"
    assert arms._money(None, "CNY") == "-"
