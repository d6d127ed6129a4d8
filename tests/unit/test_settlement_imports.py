"""Reading a stored settlement file (domain/settlement_imports.py): the byte-order mark, undecodable
bytes, line endings kept as sent, and the count of data lines that is the progress total."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.money import Money
from domain.settlement import BadLine, SettlementLine
from domain.settlement_imports import count_lines, read_lines

HEADER = b"reference,member,amount,currency,time,channel\n"
NOON = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def good(line_no: int, reference: str, member: str) -> SettlementLine:
    return SettlementLine(line_no, reference, member, Money(500, "CNY"), NOON, None)


def test_a_byte_order_mark_before_the_header_is_dropped() -> None:
    content = b"\xef\xbb\xbf" + HEADER + b"R-1,alice,5,CNY,2026-11-01T12:00:00Z,\n"
    assert list(read_lines(content, "csv")) == [good(2, "R-1", "alice")]


def test_an_undecodable_byte_spoils_only_its_own_field() -> None:
    content = HEADER + b"R-1,al\xffice,5,CNY,2026-11-01T12:00:00Z,\nR-2,bob,5,CNY,2026-11-01T12:00:00Z,\n"
    assert list(read_lines(content, "csv")) == [
        BadLine(2, "member: is not valid UTF-8"),
        good(3, "R-2", "bob"),
    ]


def test_a_carriage_return_inside_a_quoted_field_is_kept_as_sent() -> None:
    # Read with newline="": a CR LF inside quotes stays in the field, so the record's line span and
    # the next record's number are the file's own.
    content = (
        HEADER + b'R-1,"al\r\nice",5,CNY,2026-11-01T12:00:00Z,\r\nR-2,bob,5,CNY,2026-11-01T12:00:00Z,\r\n'
    )
    found = list(read_lines(content, "csv"))
    assert found[1] == good(4, "R-2", "bob")
    assert isinstance(found[0], BadLine)
    assert found[0].line_no == 2


def test_a_lone_carriage_return_counts_as_a_physical_line_end_for_numbering() -> None:
    content = HEADER + b'R-1,"al\rice",5,CNY,2026-11-01T12:00:00Z,\nR-2,bob,5,CNY,2026-11-01T12:00:00Z,\n'
    found = list(read_lines(content, "csv"))
    assert found[1] == good(4, "R-2", "bob")


def test_json_lines_are_read_the_same_way() -> None:
    content = (
        b'\xef\xbb\xbf{"reference":"R-1","member":"a","amount":"5","currency":"CNY",'
        b'"time":"2026-11-01T12:00:00Z"}\n'
    )
    assert list(read_lines(content, "jsonl")) == [good(1, "R-1", "a")]


def test_count_lines_counts_each_data_line_good_or_bad_but_not_the_header_or_blanks() -> None:
    content = HEADER + b"R-1,alice,5,CNY,2026-11-01T12:00:00Z,\n\nR-2,x,1,CNY,bad,\nR-3,y,1,CNY,bad,\n"
    assert count_lines(content, "csv") == 3
    assert count_lines(HEADER, "csv") == 0
    assert count_lines(b'{"reference":"R-1"}\n', "jsonl") == 1


def test_a_header_without_a_column_raises_before_any_line_is_counted() -> None:
    with pytest.raises(ValueError, match="line 1"):
        count_lines(b"reference,member\nR-1,alice\n", "csv")


def test_a_byte_order_mark_on_a_blank_first_line_leaves_no_header_there() -> None:
    # The mark is dropped as the bytes are decoded, so the first line is empty, not a one-column header.
    with pytest.raises(ValueError, match=r"^line 1 must be the header"):
        count_lines(b"\xef\xbb\xbf\n" + HEADER, "csv")


def test_a_quoted_line_break_counts_both_its_characters_towards_a_fields_length() -> None:
    # Read with newline="", a CR LF inside quotes is two characters, as sent: 49 + 2 + 50 = 101 is over
    # the reference's 100 (a translated LF would make it exactly 100).
    reference = b"a" * 49 + b"\r\n" + b"b" * 50
    content = HEADER + b'"' + reference + b'",alice,5,CNY,2026-11-01T12:00:00Z,\n'
    assert list(read_lines(content, "csv")) == [
        BadLine(
            2,
            "reference: must be at most 100 characters (the record runs over lines 2-3; an unclosed quote?)",
        )
    ]
