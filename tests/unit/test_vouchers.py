"""A voucher's code rules and its stored redeemVoucher answer, read back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.vouchers import ALPHABET, LENGTH, Voucher, VoucherResult, VoucherStatus, well_formed

CREATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_code_is_well_formed_only_with_its_length_and_alphabet() -> None:
    assert well_formed("2345-6789-ABCD-EFGH")  # dashes and case do not matter
    assert well_formed(ALPHABET[:LENGTH].lower())
    assert not well_formed(ALPHABET[: LENGTH - 1])  # one short, every character allowed
    assert not well_formed("0" * LENGTH)  # the right length, a character left out of the alphabet
    assert not well_formed("O1" + ALPHABET[: LENGTH - 2])


def test_a_stored_answer_reads_back_as_the_voucher_it_was_made_from() -> None:
    used = Voucher(
        id=11,
        redemption_id=22,
        member_id=33,
        status=VoucherStatus.USED,
        expires_at=CREATED + timedelta(days=30),
        created_at=CREATED,
        used_at=CREATED + timedelta(days=2, seconds=5),
        merchant_id=44,
    )
    active = Voucher(11, 22, 33, VoucherStatus.ACTIVE, CREATED + timedelta(days=30), CREATED)

    stored = VoucherResult.of(used, 55)

    assert stored == VoucherResult(
        11,
        22,
        33,
        55,
        "USED",
        "2026-03-31T12:00:00+00:00",
        "2026-03-01T12:00:00+00:00",
        "2026-03-03T12:00:05+00:00",
        44,
    )
    assert stored.voucher() == used
    assert VoucherResult.of(active, None).voucher() == active
