"""Settlement file parsing: exact amounts, physical line numbers, one BadLine per bad line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.merchants import Channel
from domain.money import Money
from domain.settlement import BadLine, SettlementLine, parse_settlement

HEADER = "reference,member,amount,currency,time,channel\n"
GOOD_CSV = "R-9,alice,5,CNY,2026-11-01T12:00:00Z,\n"
CST = timezone(timedelta(hours=8))
NOON_CST = datetime(2026, 11, 1, 12, 0, tzinfo=CST)
NOON_UTC = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def parse_csv(*lines: str) -> list[SettlementLine | BadLine]:
    return list(parse_settlement([HEADER, *lines], fmt="csv"))


def parse_jsonl(*lines: str) -> list[SettlementLine | BadLine]:
    return list(parse_settlement(lines, fmt="jsonl"))


def csv_row(
    reference: str = "R-1",
    member: str = "alice",
    amount: str = "10.00",
    currency: str = "CNY",
    time: str = "2026-11-01T12:00:00+08:00",
    channel: str = "",
) -> str:
    return f"{reference},{member},{amount},{currency},{time},{channel}\n"


# --- CSV: good lines -------------------------------------------------------------------------------


def test_good_csv_lines_convert_exactly() -> None:
    items = parse_csv(
        "S-1,alice,123.45,CNY,2026-11-01T12:00:00+08:00,OFFLINE\n",
        "S-2,bob,0.1,CNY,2026-11-01T12:00:00Z,online\n",
        "S-3,carol,1500,JPY,2026-11-01T12:00:00+08:00,\n",
        "S-4,dave,21474836.47,USD,2026-11-01T12:00:00+08:00,Offline\n",
    )

    assert items == [
        SettlementLine(2, "S-1", "alice", Money(12345, "CNY"), NOON_CST, Channel.OFFLINE),
        SettlementLine(3, "S-2", "bob", Money(10, "CNY"), NOON_UTC, Channel.ONLINE),
        SettlementLine(4, "S-3", "carol", Money(1500, "JPY"), NOON_CST, None),
        SettlementLine(5, "S-4", "dave", Money(2_147_483_647, "USD"), NOON_CST, Channel.OFFLINE),
    ]
    assert items[0].occurred_at.utcoffset() == timedelta(hours=8)  # the offset is kept, not dropped


def test_header_in_another_order_with_extra_columns_case_and_byte_order_mark() -> None:
    lines = [
        "\ufeffTime, Channel ,note,Amount,member,currency,reference\n",
        "2026-11-01T12:00:00+08:00,online,first visit,99.90,alice,HKD,S-1\n",
    ]

    items = list(parse_settlement(lines, fmt="csv"))

    assert items == [SettlementLine(2, "S-1", "alice", Money(9990, "HKD"), NOON_CST, Channel.ONLINE)]


def test_text_fields_are_trimmed_and_quoted_fields_unquoted() -> None:
    items = parse_csv('"  S-1 ", alice ," 7.5",CNY, 2026-11-01T12:00:00Z , ONLINE \n')

    assert items == [SettlementLine(2, "S-1", "alice", Money(750, "CNY"), NOON_UTC, Channel.ONLINE)]


def test_decimals_beyond_the_currency_are_accepted_only_when_they_are_zeros() -> None:
    items = parse_csv(
        csv_row("S-1", amount="100.00", currency="JPY"),
        csv_row("S-2", amount="0.100", currency="CNY"),
        csv_row("S-3", amount="5.", currency="EUR"),
        csv_row("S-4", amount=".5", currency="EUR"),
    )

    assert [item.amount for item in items if isinstance(item, SettlementLine)] == [
        Money(100, "JPY"),
        Money(10, "CNY"),
        Money(500, "EUR"),
        Money(50, "EUR"),
    ]


# --- CSV: bad lines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (csv_row(reference=""), "reference: must not be blank"),
        (csv_row(reference="   "), "reference: must not be blank"),
        (csv_row(reference="R" * 101), "reference: must be at most 100 characters"),
        (csv_row(member=""), "member: must not be blank"),
        (csv_row(member="m" * 65), "member: must be at most 64 characters"),
        (csv_row(member="al\x01ice"), "member: must not contain control characters"),
        (csv_row(member="al\udcffice"), "member: is not valid UTF-8"),
        (csv_row(amount="ten"), "amount: must be a decimal number in major units, e.g. 123.45"),
        (csv_row(amount=""), "amount: must be a decimal number in major units, e.g. 123.45"),
        (csv_row(amount="1e3"), "amount: must be a decimal number in major units, e.g. 123.45"),
        (csv_row(amount="1_000"), "amount: must be a decimal number in major units, e.g. 123.45"),
        (csv_row(amount='"1,000"'), "amount: must be a decimal number in major units, e.g. 123.45"),
        (csv_row(amount="NaN"), "amount: must be a decimal number in major units, e.g. 123.45"),
        (csv_row(amount="0"), "amount: must be greater than zero"),
        (csv_row(amount="0.00"), "amount: must be greater than zero"),
        (csv_row(amount="-5.00"), "amount: must be greater than zero"),
        (csv_row(amount="1.234"), "amount: CNY has at most 2 decimal places"),
        (csv_row(amount="1.5", currency="JPY"), "amount: JPY has no decimal places"),
        # More digits than Decimal's 28-digit context: must not round to 0.10 and pass.
        (csv_row(amount="0.1000000000000000000000000000001"), "amount: CNY has at most 2 decimal places"),
        (csv_row(amount="21474836.48"), "amount: must be at most 21474836.47"),
        (csv_row(amount="2147483648", currency="KRW"), "amount: must be at most 2147483647"),
        (csv_row(currency="cny"), "currency: must be 3 uppercase letters, e.g. CNY"),
        (csv_row(currency="YUAN"), "currency: must be 3 uppercase letters, e.g. CNY"),
        (csv_row(currency=""), "currency: must be 3 uppercase letters, e.g. CNY"),
        (csv_row(currency="XAU"), "currency: XAU is not a supported currency"),
        (
            csv_row(time="yesterday"),
            "time: must be an ISO 8601 date and time, e.g. 2026-11-01T12:00:00+08:00",
        ),
        (csv_row(time=""), "time: must be an ISO 8601 date and time, e.g. 2026-11-01T12:00:00+08:00"),
        (csv_row(time="2026-11-01T12:00:00"), "time: needs a time zone offset"),
        (csv_row(time="2026-11-01"), "time: needs a time zone offset"),
        (csv_row(channel="MOBILE"), "channel: must be ONLINE, OFFLINE or empty"),
        ("R-1,alice,10.00,CNY,2026-11-01T12:00:00Z\n", "line: has 5 fields, the header has 6"),
        ("R-1\n", "line: has 1 field, the header has 6"),
        ("R-1,alice\n", "line: has 2 fields, the header has 6"),
        ("R-1,alice,10.00,CNY,2026-11-01T12:00:00Z,,\n", "line: has 7 fields, the header has 6"),
        ('R-1,"alice"x,10.00,CNY,2026-11-01T12:00:00Z,\n', "line: not valid CSV (',' expected after '\"')"),
    ],
)
def test_a_bad_field_gives_a_bad_line_with_its_number_and_the_rest_still_parse(
    row: str, message: str
) -> None:
    items = parse_csv(csv_row("R-0"), row, GOOD_CSV)

    assert items == [
        SettlementLine(2, "R-0", "alice", Money(1000, "CNY"), NOON_CST, None),
        BadLine(3, message),
        SettlementLine(4, "R-9", "alice", Money(500, "CNY"), NOON_UTC, None),
    ]


def test_the_first_undecodable_byte_is_not_valid_utf_8() -> None:
    # Bytes 0x80-0xff read with errors="surrogateescape" become \udc80-\udcff.
    assert parse_csv(csv_row(member="al\udc80ice")) == [BadLine(2, "member: is not valid UTF-8")]


def test_text_fields_may_be_exactly_as_long_as_their_columns() -> None:
    [item] = parse_csv(csv_row(reference="R" * 100, member="m" * 64))

    assert isinstance(item, SettlementLine)
    assert (item.reference, item.member_ref) == ("R" * 100, "m" * 64)


def test_the_first_bad_field_in_column_order_is_the_one_reported() -> None:
    items = parse_csv(csv_row(member="", amount="-1", time="noon"))

    assert items == [BadLine(2, "member: must not be blank")]


def test_blank_csv_lines_are_skipped_and_numbering_stays_physical() -> None:
    items = parse_csv("\n", csv_row("S-1"), "   \n", ",,,,,\n", "\n", csv_row("S-2", amount="oops"), "\n")

    assert items == [
        SettlementLine(3, "S-1", "alice", Money(1000, "CNY"), NOON_CST, None),
        BadLine(7, "amount: must be a decimal number in major units, e.g. 123.45"),
    ]


def test_a_quoted_field_over_two_lines_keeps_the_following_numbers_physical() -> None:
    lines = [
        "reference,member,amount,currency,time,channel,note\n",
        'S-1,alice,1.00,CNY,2026-11-01T12:00:00Z,,"two\n',
        'lines"\n',
        "S-2,bob,2.00,CNY,2026-11-01T12:00:00Z,,\n",
        'S-3,"carol\n',
        'x",3.00,CNY,2026-11-01T12:00:00Z,,\n',
    ]

    items = list(parse_settlement(lines, fmt="csv"))

    assert items == [
        SettlementLine(2, "S-1", "alice", Money(100, "CNY"), NOON_UTC, None),
        SettlementLine(4, "S-2", "bob", Money(200, "CNY"), NOON_UTC, None),
        BadLine(
            5,
            "member: must not contain control characters"
            " (the record runs over lines 5-6; an unclosed quote?)",
        ),
    ]


def test_an_unclosed_quote_at_the_end_is_one_bad_line_naming_the_lines_it_swallowed() -> None:
    items = parse_csv(csv_row("S-1"), 'S-2,"alice,1.00,CNY,2026-11-01T12:00:00Z,\n', GOOD_CSV)

    assert items == [
        SettlementLine(2, "S-1", "alice", Money(1000, "CNY"), NOON_CST, None),
        BadLine(
            3,
            "line: not valid CSV (unexpected end of data)"
            " (the record runs over lines 3-4; an unclosed quote?)",
        ),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "reference,member,amount,time,channel\n",
            "line 1: the header lacks the column currency; it needs"
            " reference,member,amount,currency,time,channel (any order, extra columns ignored)",
        ),
        (
            "ref,member,amount,ccy,time\n",
            "line 1: the header lacks the columns reference, currency, channel; it needs"
            " reference,member,amount,currency,time,channel (any order, extra columns ignored)",
        ),
        (
            "reference,member,amount,time\n",
            "line 1: the header lacks the columns currency, channel; it needs"
            " reference,member,amount,currency,time,channel (any order, extra columns ignored)",
        ),
        (
            "reference,member,amount,currency,time,channel,Amount\n",
            "line 1: the header names amount more than once",
        ),
        (
            "reference,member,amount,currency,time,channel,Amount,TIME\n",
            "line 1: the header names amount, time more than once",
        ),
        ('reference,"mem"ber,amount\n', "line 1: the header is not valid CSV: ',' expected after '\"'"),
        ("\n", "line 1 must be the header: reference,member,amount,currency,time,channel (any order)"),
    ],
)
def test_a_bad_header_raises_value_error_before_any_line_is_read(header: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^line 1") as raised:
        parse_settlement([header, GOOD_CSV], fmt="csv")  # raises at the call, not on iteration

    assert str(raised.value) == message


def test_an_empty_csv_file_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"^line 1 must be the header: "):
        parse_settlement([], fmt="csv")


def test_an_unknown_format_raises_value_error() -> None:
    with pytest.raises(ValueError, match="unknown settlement format 'xml'"):
        parse_settlement([], fmt="xml")  # type: ignore[arg-type]


# --- JSON Lines ------------------------------------------------------------------------------------


def test_good_jsonl_lines_convert_exactly_from_strings_and_numbers() -> None:
    items = parse_jsonl(
        '{"reference": "S-1", "member": "alice", "amount": "123.45", "currency": "CNY",'
        ' "time": "2026-11-01T12:00:00+08:00", "channel": "OFFLINE"}\n',
        '{"reference": "S-2", "member": "bob", "amount": 0.1, "currency": "CNY",'
        ' "time": "2026-11-01T12:00:00Z", "channel": null}\n',
        '{"reference": "S-3", "member": "carol", "amount": 1500, "currency": "JPY",'
        ' "time": "2026-11-01T12:00:00+08:00", "extra": [1, 2]}\n',
        '{"reference": "S-4", "member": "dave", "amount": 19.99, "currency": "USD",'
        ' "time": "2026-11-01T12:00:00Z", "channel": "online"}',
    )

    assert items == [
        SettlementLine(1, "S-1", "alice", Money(12345, "CNY"), NOON_CST, Channel.OFFLINE),
        SettlementLine(2, "S-2", "bob", Money(10, "CNY"), NOON_UTC, None),
        SettlementLine(3, "S-3", "carol", Money(1500, "JPY"), NOON_CST, None),
        SettlementLine(4, "S-4", "dave", Money(1999, "USD"), NOON_UTC, Channel.ONLINE),
    ]


def test_blank_jsonl_lines_are_skipped_and_numbering_stays_physical() -> None:
    good = '{"reference": "S-%d", "member": "m", "amount": "1", "currency": "KRW", "time": "%s"}'

    items = parse_jsonl(
        "\ufeff\n",
        good % (1, "2026-11-01T12:00:00Z") + "\n",
        "\n",
        "   \t\n",
        good % (2, "2026-11-01T12:00:00Z") + "\r\n",
        "\n",
    )

    assert items == [
        SettlementLine(2, "S-1", "m", Money(1, "KRW"), NOON_UTC, None),
        SettlementLine(5, "S-2", "m", Money(1, "KRW"), NOON_UTC, None),
    ]


JSON_GOOD = (
    '{"reference": "R-1", "member": "alice", "amount": "5", "currency": "CNY",'
    ' "time": "2026-11-01T12:00:00Z"}'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"reference": "R-1", "member": }', "line: not valid JSON (Expecting value at column 32)"),
        ("not json at all", "line: not valid JSON (Expecting value at column 1)"),
        ('["R-1", "alice"]', "line: must be a JSON object"),
        ('"R-1"', "line: must be a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "line: not valid JSON (nested too deeply)"),
        (JSON_GOOD.replace('"5"', "1" + "0" * 5000), "line: not valid JSON (a number has too many digits)"),
        (JSON_GOOD.replace('"reference": "R-1", ', ""), "reference: missing"),
        (JSON_GOOD.replace(', "time": "2026-11-01T12:00:00Z"', ""), "time: missing"),
        (JSON_GOOD.replace('"R-1"', "17"), "reference: must be text"),
        (JSON_GOOD.replace('"alice"', "null"), "member: must be text"),
        (JSON_GOOD.replace('"5"', "true"), "amount: must be a decimal number in major units, e.g. 123.45"),
        (JSON_GOOD.replace('"5"', "NaN"), "amount: must be a decimal number in major units, e.g. 123.45"),
        (JSON_GOOD.replace('"5"', '["5"]'), "amount: must be a decimal number in major units, e.g. 123.45"),
        (JSON_GOOD.replace('"5"', "0"), "amount: must be greater than zero"),
        (JSON_GOOD.replace('"5"', "-1.5"), "amount: must be greater than zero"),
        (JSON_GOOD.replace('"5"', "0.001"), "amount: CNY has at most 2 decimal places"),
        (JSON_GOOD.replace('"CNY"', '"cny"'), "currency: must be 3 uppercase letters, e.g. CNY"),
        (
            JSON_GOOD.replace('"2026-11-01T12:00:00Z"', '"2026-11-01T12:00:00"'),
            "time: needs a time zone offset",
        ),
        (
            JSON_GOOD.replace('"2026-11-01T12:00:00Z"', "1762000000"),
            "time: must be text: an ISO 8601 date and time",
        ),
        (JSON_GOOD.replace("}", ', "channel": "KIOSK"}'), "channel: must be ONLINE, OFFLINE or empty"),
        (JSON_GOOD.replace("}", ', "channel": 1}'), "channel: must be ONLINE, OFFLINE or empty"),
    ],
)
def test_a_bad_jsonl_line_gives_a_bad_line_and_the_rest_still_parse(line: str, message: str) -> None:
    items = parse_jsonl(JSON_GOOD, "", line, JSON_GOOD.replace("R-1", "R-4"))

    assert items == [
        SettlementLine(1, "R-1", "alice", Money(500, "CNY"), NOON_UTC, None),
        BadLine(3, message),
        SettlementLine(4, "R-4", "alice", Money(500, "CNY"), NOON_UTC, None),
    ]


def test_a_json_number_converts_without_float_error() -> None:
    # As a float, 0.29 * 100 is 28.999999999999996; parsed as a Decimal it is exactly 29 fen.
    items = parse_jsonl(JSON_GOOD.replace('"5"', "0.29"), JSON_GOOD.replace('"5"', "1E+2"))

    assert [item.amount for item in items if isinstance(item, SettlementLine)] == [
        Money(29, "CNY"),
        Money(10000, "CNY"),
    ]


def test_a_jsonl_error_column_counts_the_line_s_leading_spaces() -> None:
    assert parse_jsonl('  {"reference": 1,}\n') == [
        BadLine(1, "line: not valid JSON (Expecting property name enclosed in double quotes at column 19)")
    ]
