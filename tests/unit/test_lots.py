"""Which lots a debit consumes: soonest expiry first, then the lowest id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import ErrorCode, InsufficientPoints
from domain.lots import (
    DrawnPoints,
    LotDraw,
    PointsLot,
    ReturnedPoints,
    draw_from_lots,
    earliest_expiry,
    given_back,
)

EARNED = datetime(2024, 1, 1, tzinfo=UTC)


def lot(lot_id: int, remaining: int, expires: datetime, points: int | None = None) -> PointsLot:
    return PointsLot(lot_id, 1, points or remaining, remaining, EARNED, expires)


def test_the_soonest_expiring_lot_is_drawn_first_whatever_the_input_order() -> None:
    # given lots listed latest-expiring first
    lots = [
        lot(1, 100, datetime(2026, 6, 1, tzinfo=UTC)),
        lot(2, 100, datetime(2025, 3, 1, tzinfo=UTC)),
        lot(3, 100, datetime(2025, 9, 1, tzinfo=UTC)),
    ]

    # when 150 points are drawn
    draws = draw_from_lots(lots, 150)

    # then all of the March lot, then 50 from the September lot; the June 2026 lot is untouched
    assert draws == [LotDraw(2, 100), LotDraw(3, 50)]


def test_lots_expiring_at_the_same_moment_are_drawn_lowest_id_first() -> None:
    same = datetime(2025, 12, 31, tzinfo=UTC)
    lots = [lot(9, 40, same), lot(4, 40, same), lot(6, 40, same)]

    assert draw_from_lots(lots, 100) == [LotDraw(4, 40), LotDraw(6, 40), LotDraw(9, 20)]


def test_empty_lots_are_skipped() -> None:
    lots = [
        lot(1, 0, datetime(2025, 1, 1, tzinfo=UTC), points=500),
        lot(2, 30, datetime(2025, 2, 1, tzinfo=UTC)),
        lot(3, 0, datetime(2025, 3, 1, tzinfo=UTC), points=80),
        lot(4, 70, datetime(2025, 4, 1, tzinfo=UTC)),
    ]

    assert draw_from_lots(lots, 100) == [LotDraw(2, 30), LotDraw(4, 70)]


def test_a_lot_with_exactly_one_point_left_is_drawn() -> None:
    lots = [
        lot(1, 1, datetime(2026, 1, 1, tzinfo=UTC), points=50),
        lot(2, 10, datetime(2026, 6, 1, tzinfo=UTC)),
    ]

    assert draw_from_lots(lots, 3) == [LotDraw(1, 1), LotDraw(2, 2)]


def test_a_partial_draw_takes_exactly_what_is_needed_and_stops() -> None:
    lots = [lot(1, 500, datetime(2025, 1, 1, tzinfo=UTC)), lot(2, 500, datetime(2025, 2, 1, tzinfo=UTC))]

    draws = draw_from_lots(lots, 137)

    assert draws == [LotDraw(1, 137)]
    assert sum(d.points for d in draws) == 137


def test_drawing_everything_there_is_empties_every_lot() -> None:
    lots = [lot(1, 10, datetime(2025, 1, 1, tzinfo=UTC)), lot(2, 15, datetime(2025, 2, 1, tzinfo=UTC))]

    assert draw_from_lots(lots, 25) == [LotDraw(1, 10), LotDraw(2, 15)]


def test_drawing_more_than_the_lots_hold_is_insufficient_points() -> None:
    lots = [lot(1, 10, datetime(2025, 1, 1, tzinfo=UTC)), lot(2, 15, datetime(2025, 2, 1, tzinfo=UTC))]

    with pytest.raises(InsufficientPoints) as raised:
        draw_from_lots(lots, 26)

    assert raised.value.code is ErrorCode.INSUFFICIENT_POINTS
    assert raised.value.field == ("points",)
    assert raised.value.message == "26 points requested, 25 in lots"


def test_drawing_from_no_lots_is_insufficient_points() -> None:
    with pytest.raises(InsufficientPoints, match="1 points requested, 0 in lots"):
        draw_from_lots([], 1)


def test_drawing_does_not_change_the_lots_it_is_given() -> None:
    lots = [lot(1, 10, datetime(2025, 1, 1, tzinfo=UTC))]

    draw_from_lots(lots, 4)

    assert lots == [lot(1, 10, datetime(2025, 1, 1, tzinfo=UTC))]


# --- what a hold gives back -----------------------------------------------------------------------

MARCH = datetime(2025, 3, 1, tzinfo=UTC)
JUNE = datetime(2025, 6, 1, tzinfo=UTC)
DECEMBER = datetime(2025, 12, 1, tzinfo=UTC)


def test_a_partial_capture_spends_the_soonest_expiring_and_gives_back_the_rest_by_expiry() -> None:
    # given a hold of 250 that drew 100 (June), 100 (March) and 50 (December), listed in any order
    drawn = [DrawnPoints(7, 100, JUNE), DrawnPoints(3, 100, MARCH), DrawnPoints(9, 50, DECEMBER)]

    # when 130 are captured
    back = given_back(drawn, 130)

    # then the 130 spent are March's 100 and 30 of June's; 70 June and 50 December come back
    assert back == [ReturnedPoints(70, JUNE), ReturnedPoints(50, DECEMBER)]


def test_a_void_gives_everything_back_one_lot_per_distinct_expiry() -> None:
    drawn = [DrawnPoints(1, 40, MARCH), DrawnPoints(2, 60, MARCH), DrawnPoints(3, 10, JUNE)]

    assert given_back(drawn, 0) == [ReturnedPoints(100, MARCH), ReturnedPoints(10, JUNE)]


def test_capturing_everything_gives_nothing_back() -> None:
    assert given_back([DrawnPoints(1, 40, MARCH), DrawnPoints(2, 60, JUNE)], 100) == []


def test_what_comes_back_and_what_is_kept_add_up_to_what_was_drawn() -> None:
    drawn = [DrawnPoints(i, 7 * i, [MARCH, JUNE, DECEMBER][i % 3]) for i in range(1, 9)]
    total = sum(d.points for d in drawn)
    for kept in range(total + 1):
        assert sum(r.points for r in given_back(drawn, kept)) == total - kept


def test_keeping_more_than_was_drawn_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="cannot keep"):
        given_back([DrawnPoints(1, 40, MARCH)], 41)


def test_a_cancelled_redemption_comes_back_dated_like_the_soonest_lot_it_spent() -> None:
    assert earliest_expiry([DrawnPoints(1, 40, JUNE), DrawnPoints(2, 60, MARCH)]) == MARCH
    assert earliest_expiry([]) is None
