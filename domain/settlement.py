"""Settlement files: the lines a merchant's file holds and what became of them.

`parse_settlement` turns a file's text lines (CSV with a header, or JSON Lines) into
`SettlementLine`s, or a `BadLine` for each line it cannot use; it does no I/O and never raises on
a bad line, so one typo in a million-line file costs that line only.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from domain import member_links
from domain.errors import ErrorCode
from domain.merchants import Channel
from domain.money import MAX_INT, MINOR_UNITS, Money


@dataclass(frozen=True, slots=True)
class SettlementLine:
    line_no: int
    reference: str
    member_ref: str  # the reference the member's link to this merchant gave it
    amount: Money
    occurred_at: datetime
    channel: Channel | None


@dataclass(frozen=True, slots=True)
class BadLine:
    line_no: int
    message: str
    # What kind of refusal, for reports a program reads; the message already says it to a person,
    # so two reports of one line compare by line and message.
    code: ErrorCode = field(default=ErrorCode.VALIDATION, compare=False)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    posted: int
    duplicates: int
    rejected: tuple[BadLine, ...]
    points: int


# The columns (CSV) or keys (JSON Lines) of a settlement line; a CSV header may order them freely.
COLUMNS = ("reference", "member", "amount", "currency", "time", "channel")
MAX_REFERENCE = 100  # purchases.reference is VARCHAR(100)
MAX_MEMBER_REF = member_links.MAX_INPUT

# Plain decimal notation only: Decimal() alone would also take "1_000", " 5 ", "1e3" and non-ASCII digits.
_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_CURRENCY = re.compile(r"[A-Z]{3}")
# Control characters (tab allowed, as in domain.validation.text) and the lone surrogates that
# undecodable bytes become when the caller reads the file with errors="surrogateescape".
_NOT_TEXT = re.compile("[\x00-\x08\x0a-\x1f\x7f\udc80-\udcff]")


class _FieldError(Exception):
    """One field's problem; becomes a BadLine and never leaves this module."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.message = f"{field}: {reason}"


def parse_settlement(
    lines: Iterable[str], *, fmt: Literal["csv", "jsonl"]
) -> Iterator[SettlementLine | BadLine]:
    """One SettlementLine or BadLine per data line, in file order, numbered by physical line (1-based).

    Lazy, so a file of any size streams through. For CSV the header is read at once: a header
    without the required columns raises ValueError before any data line is read.
    """
    if fmt == "csv":
        reader = csv.reader(iter(lines), strict=True)  # strict: a stray quote is an error, not data
        positions, width = _csv_header(reader)
        return _csv_lines(reader, positions, width)
    if fmt == "jsonl":
        return _jsonl_lines(lines)
    raise ValueError(f"unknown settlement format {fmt!r}; expected 'csv' or 'jsonl'")


def _csv_header(reader: Iterator[list[str]]) -> tuple[dict[str, int], int]:
    """Where each required column sits, and how many columns a row must have."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValueError(f"line 1: the header is not valid CSV: {exc}") from exc
    expected = ",".join(COLUMNS)
    if not header or not any(name.strip() for name in header):
        raise ValueError(f"line 1 must be the header: {expected} (any order)")
    # Spreadsheets add a byte-order mark and vary the case; neither changes what a column means.
    names = [name.strip().lower() for name in header]
    names[0] = names[0].removeprefix("\ufeff").strip()
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise ValueError(
            f"line 1: the header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)};"
            f" it needs {expected} (any order, extra columns ignored)"
        )
    twice = [column for column in COLUMNS if names.count(column) > 1]
    if twice:
        raise ValueError(f"line 1: the header names {', '.join(twice)} more than once")
    return {column: names.index(column) for column in COLUMNS}, len(header)


def _csv_lines(
    reader: Iterator[list[str]], positions: dict[str, int], width: int
) -> Iterator[SettlementLine | BadLine]:
    # csv.reader counts physical lines, so a quoted field holding a newline keeps the numbering true.
    line_num = reader.line_num  # type: ignore[attr-defined]  # csv readers count lines
    take = [positions[column] for column in COLUMNS]
    while True:
        start = line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line_num = reader.line_num  # type: ignore[attr-defined]  # csv readers count lines
            yield BadLine(start, f"line: not valid CSV ({exc}){_span(start, line_num)}")
            continue
        line_num = reader.line_num  # type: ignore[attr-defined]  # csv readers count lines
        if not row or (not row[0].strip() and not "".join(row).strip()):
            continue  # a blank line, or only commas: spreadsheets write both at the end
        if len(row) != width:
            # Misaligned columns could put one field's value in another's place: refuse the line.
            fields = f"{len(row)} field{'' if len(row) == 1 else 's'}"
            message = f"line: has {fields}, the header has {width}{_span(start, line_num)}"
            yield BadLine(start, message)
            continue
        item = _settlement_line(start, *(row[i] for i in take))
        if isinstance(item, BadLine) and line_num > start:
            item = BadLine(start, item.message + _span(start, line_num))
        yield item


def _span(start: int, end: int) -> str:
    """Says so when a record ran over several lines, which usually means an unclosed quote."""
    return f" (the record runs over lines {start}-{end}; an unclosed quote?)" if end > start else ""


def _jsonl_lines(lines: Iterable[str]) -> Iterator[SettlementLine | BadLine]:
    for line_no, line in enumerate(lines, start=1):
        if line_no == 1:
            line = line.removeprefix("\ufeff")
        text = line.rstrip()  # without the newline, so an error's column is on this line
        if not text:
            continue
        try:
            # Decimal, never float: "0.1" must stay exactly one tenth.
            obj = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            yield BadLine(line_no, f"line: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except ValueError:  # int() refuses integers of more than 4300 digits
            yield BadLine(line_no, "line: not valid JSON (a number has too many digits)")
            continue
        except RecursionError:
            yield BadLine(line_no, "line: not valid JSON (nested too deeply)")
            continue
        if not isinstance(obj, dict):
            yield BadLine(line_no, "line: must be a JSON object")
            continue
        missing = next((key for key in COLUMNS[:-1] if key not in obj), None)
        if missing is not None:
            yield BadLine(line_no, f"{missing}: missing")
            continue
        yield _settlement_line(line_no, *(obj.get(key) for key in COLUMNS))


def _settlement_line(
    line_no: int,
    reference: object,
    member: object,
    amount: object,
    currency: object,
    time: object,
    channel: object,
) -> SettlementLine | BadLine:
    """Checks the fields in column order and reports the first problem."""
    try:
        reference_text = _text(reference, "reference", MAX_REFERENCE)
        member_text = _text(member, "member", MAX_MEMBER_REF)
        code = _currency(currency)
        return SettlementLine(
            line_no=line_no,
            reference=reference_text,
            member_ref=member_text,
            amount=Money(_amount_minor(amount, code), code),
            occurred_at=_time(time),
            channel=_channel(channel),
        )
    except _FieldError as error:
        return BadLine(line_no, error.message)


def _text(value: object, field: str, max_length: int) -> str:
    # The same rules and wording as domain.validation.text, which the API applies.
    if not isinstance(value, str):
        raise _FieldError(field, "must be text")
    cleaned = value.strip()
    if not cleaned:
        raise _FieldError(field, "must not be blank")
    if len(cleaned) > max_length:
        raise _FieldError(field, f"must be at most {max_length} characters")
    if found := _NOT_TEXT.search(cleaned):
        if found.group() >= "\udc80":
            raise _FieldError(field, "is not valid UTF-8")
        raise _FieldError(field, "must not contain control characters")
    return cleaned


def _currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip()):
        raise _FieldError("currency", "must be 3 uppercase letters, e.g. CNY")
    code = value.strip()
    if code not in MINOR_UNITS:
        raise _FieldError("currency", f"{code} is not a supported currency")
    return code


def _amount_minor(value: object, currency: str) -> int:
    """Major units ("123.45") to exact integer minor units (12345); never through a float."""
    if isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        number = Decimal(value.strip())
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):  # JSON numbers
        number = Decimal(value)
    else:
        raise _FieldError("amount", "must be a decimal number in major units, e.g. 123.45")
    if not number.is_finite():
        raise _FieldError("amount", "must be a decimal number in major units, e.g. 123.45")
    if number <= 0:
        raise _FieldError("amount", "must be greater than zero")
    units = MINOR_UNITS[currency]
    largest = Decimal(MAX_INT).scaleb(-units)  # Decimal comparison is exact: no rounding here
    if number > largest:
        raise _FieldError("amount", f"must be at most {largest}")
    return _to_minor(number, units, currency)


def _to_minor(number: Decimal, units: int, currency: str) -> int:
    # From the digits themselves: Decimal arithmetic rounds to the context's 28 digits, and
    # "0.1000000000000000000000000000001" must not pass as 0.10.
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    shift = exponent + units  # the power of ten the digits stand for, in minor units
    if shift < 0:
        # Trailing zeros beyond the currency's places ("100.00" JPY) change nothing, so they pass.
        if any(digits[shift:]):
            places = f"at most {units} decimal places" if units else "no decimal places"
            raise _FieldError("amount", f"{currency} has {places}")
        digits, shift = digits[:shift], 0
    scale: int = 10**shift
    return _digits_value(digits) * scale


def _digits_value(digits: Sequence[int]) -> int:
    value = 0
    for digit in digits:
        value = value * 10 + digit
    return value


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise _FieldError("time", "must be text: an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _FieldError(
            "time", "must be an ISO 8601 date and time, e.g. 2026-11-01T12:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        # A naive time is ambiguous by up to a day, and purchase times decide expiry and ordering.
        raise _FieldError("time", "needs a time zone offset")
    return moment


def _channel(value: object) -> Channel | None:
    if not value:  # None, or an empty CSV field
        return None
    if not isinstance(value, str):
        raise _FieldError("channel", "must be ONLINE, OFFLINE or empty")
    cleaned = value.strip().upper()
    if not cleaned:
        return None
    try:
        return Channel(cleaned)
    except ValueError:
        raise _FieldError("channel", "must be ONLINE, OFFLINE or empty") from None
