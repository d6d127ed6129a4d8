"""Members' phone and email at rest: encrypted, found by keyed hash, masked in lists and in the audit
log, erased on request; and never in a log record."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from persistence.personal_data import PersonalDataVault
from persistence.tables import audit_log, journal_entries, journal_lines, members, points_lots
from scripts.rotate_personal_data import rotate
from tests.builders import Ids, Scenario
from tests.conftest import PERSONAL_DATA_LOOKUP_KEY, TEST_VAULT, Backend

PHONE = "13812345678"
EMAIL = "Li.Wei@Example.CN"

MEMBERS = """query($filter: MemberFilter) {
  members(filter: $filter) { edges { node { id externalRef contact { phone email } } } }
}"""
MEMBER = """query($id: ID!) {
  member(id: $id) {
    externalRef status statusReason referralCode contact { phone email }
    profile { birthYear region incomeBand tags } balance { available debt }
  }
}"""
ERASE = """mutation($input: EraseMemberInput!) {
  eraseMember(input: $input) {
    member { id externalRef status contact { phone email } profile { birthYear region tags } }
    errors { code field message }
  }
}"""
AUDIT = """query($filter: AuditLogFilter) {
  auditLog(filter: $filter) { edges { node { actor action memberId before after } } }
}"""
PROFILE = {"birthYear": 1990, "region": "Shanghai", "incomeBand": "HIGH", "tags": ["Traveller"]}


async def member_row(backend: Backend, member: Ids) -> dict[str, Any]:
    async with backend.database.read_engine.connect() as conn:
        row = (await conn.execute(select(members).where(members.c.id == member.raw))).one()
    return dict(row._mapping)


async def enrolled(given: Scenario, ref: str = "cust-pd", **fields: Any) -> Ids:
    return await given.member(ref, phone=PHONE, email=EMAIL, profile=PROFILE, **fields)


async def test_contact_data_is_stored_only_encrypted_with_a_keyed_lookup_hash(
    backend: Backend, given: Scenario
) -> None:
    member = await enrolled(given)

    row = await member_row(backend, member)

    stored = " ".join(str(v) for v in row.values())
    for plain in (PHONE, "12345678", EMAIL.lower(), "li.wei"):
        assert plain not in stored.lower()
    assert {"phone", "email"}.isdisjoint(row)  # the plain columns are gone
    assert TEST_VAULT.open(row["phone_encrypted"]) == PHONE
    assert TEST_VAULT.open(row["email_encrypted"]) == EMAIL
    assert row["phone_lookup"] == TEST_VAULT.phone_lookup("138-1234 5678")
    assert row["email_lookup"] == TEST_VAULT.email_lookup("li.wei@example.cn")
    # The lookup is keyed: the same number under another key hashes differently.
    other = PersonalDataVault([PersonalDataVault.new_key()], "another-lookup-key-of-32-characters-at-least")
    assert other.phone_lookup(PHONE) != row["phone_lookup"]


async def test_admins_find_members_by_phone_or_email_and_lists_mask_contact_data(given: Scenario) -> None:
    member = await enrolled(given)
    await given.member("cust-other", phone="13900000000", email="someone@example.com")

    by_phone = await given.gql.data(MEMBERS, {"filter": {"phone": "138 1234-5678"}}, given.admin)
    by_email = await given.gql.data(MEMBERS, {"filter": {"email": "li.wei@example.cn"}}, given.admin)
    nobody = await given.gql.data(MEMBERS, {"filter": {"phone": "13812345679"}}, given.admin)
    everyone = await given.gql.data(MEMBERS, None, given.admin)

    [found] = by_phone["members"]["edges"]
    assert found["node"]["id"] == member.gid
    assert found["node"]["contact"] == {"phone": "138****5678", "email": "L***@Example.CN"}
    assert [e["node"]["id"] for e in by_email["members"]["edges"]] == [member.gid]
    assert nobody["members"]["edges"] == []
    assert [e["node"]["contact"]["phone"] for e in everyone["members"]["edges"]] == [
        "138****5678",
        "139****0000",
    ]


async def test_members_filter_by_contact_is_for_admins_only(given: Scenario) -> None:
    member = await enrolled(given)

    refused = await given.gql.post(MEMBERS, {"filter": {"phone": PHONE}}, given.tokens.member(member.raw))

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_admins_read_of_one_members_contact_and_profile_is_one_audit_row_its_own_read_none(
    given: Scenario,
) -> None:
    member = await enrolled(given)

    as_admin = await given.gql.data(MEMBER, {"id": member.gid}, given.admin)
    as_itself = await given.gql.data(MEMBER, {"id": member.gid}, given.tokens.member(member.raw))
    reads = await given.gql.data(AUDIT, {"filter": {"action": "personal_data.read"}}, given.admin)

    assert as_admin["member"]["contact"] == as_itself["member"]["contact"] == {"phone": PHONE, "email": EMAIL}
    [read] = reads["auditLog"]["edges"]
    assert read["node"] == {
        "actor": "admin@test",
        "action": "personal_data.read",
        "memberId": member.gid,
        "before": None,
        "after": {"fields": ["phone", "email", "profile"], "role": "admin"},
    }


async def test_the_audit_log_holds_contact_data_masked(backend: Backend, given: Scenario) -> None:
    member = await enrolled(given)

    async with backend.database.read_engine.connect() as conn:
        rows = (
            await conn.execute(select(audit_log.c.after).where(audit_log.c.member_id == member.raw))
        ).all()

    [enrolment] = [row.after for row in rows]
    assert enrolment["contact"] == {"phone": "138****5678", "email": "L***@Example.CN"}
    assert PHONE not in str(enrolment)
    assert EMAIL not in str(enrolment)


async def test_rotation_re_encrypts_every_member_under_the_new_key(backend: Backend, given: Scenario) -> None:
    member = await enrolled(given)
    old_token = (await member_row(backend, member))["phone_encrypted"]
    new_key = PersonalDataVault.new_key()
    rotated_vault = PersonalDataVault([new_key, *_test_keys()], PERSONAL_DATA_LOOKUP_KEY)

    changed = await rotate(backend.database.write_engine, rotated_vault)
    again = await rotate(backend.database.write_engine, rotated_vault)

    row = await member_row(backend, member)
    only_new = PersonalDataVault([new_key], PERSONAL_DATA_LOOKUP_KEY)
    assert (changed, again) == (1, 0)  # only rows not yet under the first key are rewritten
    assert row["phone_encrypted"] != old_token
    assert only_new.open(row["phone_encrypted"]) == PHONE
    assert only_new.open(row["email_encrypted"]) == EMAIL
    assert row["phone_lookup"] == TEST_VAULT.phone_lookup(PHONE)  # same lookup key, same hash


async def test_a_new_lookup_key_rehashes_every_member(backend: Backend, given: Scenario) -> None:
    member = await enrolled(given)
    new_lookup = "a-new-lookup-key-that-is-long-enough-0123"
    vault = PersonalDataVault(_test_keys(), new_lookup)

    changed = await rotate(backend.database.write_engine, vault)

    row = await member_row(backend, member)
    assert changed == 1
    assert row["phone_lookup"] == vault.phone_lookup(PHONE) != TEST_VAULT.phone_lookup(PHONE)
    assert row["email_lookup"] == vault.email_lookup(EMAIL)


def _test_keys() -> list[str]:
    from tests.conftest import PERSONAL_DATA_KEYS

    return list(PERSONAL_DATA_KEYS)


# --- erasure -----------------------------------------------------------------------------------


async def ledger_rows(backend: Backend) -> tuple[Any, ...]:
    async with backend.database.read_engine.connect() as conn:
        found = []
        for table in (journal_entries, journal_lines, points_lots):
            found.append([tuple(r) for r in (await conn.execute(select(table).order_by(table.c.id))).all()])
        return tuple(found)


async def test_an_admin_erases_a_member_keeping_its_ledger_and_audit_exact(
    backend: Backend, given: Scenario
) -> None:
    member = await enrolled(given)
    assert (await given.adjust(member, 500, "in"))["errors"] == []
    assert (await given.adjust(member, -500, "out"))["errors"] == []
    ledger_before = await ledger_rows(backend)
    async with backend.database.read_engine.connect() as conn:
        audit_before = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()

    answer = await given.gql.data(ERASE, {"input": {"memberId": member.gid}}, given.admin)
    again = await given.gql.data(ERASE, {"input": {"memberId": member.gid}}, given.admin)

    erased = answer["eraseMember"]
    assert erased["errors"] == []
    assert erased["member"]["status"] == "ERASED"
    assert erased["member"]["externalRef"].startswith("erased-")
    assert erased["member"]["contact"] == {"phone": None, "email": None}
    assert erased["member"]["profile"] == {"birthYear": None, "region": None, "tags": []}
    assert again["eraseMember"] == erased  # erasing again changes nothing
    row = await member_row(backend, member)
    assert {k: row[k] for k in ("phone_encrypted", "email_encrypted", "phone_lookup", "email_lookup")} == {
        "phone_encrypted": None,
        "email_encrypted": None,
        "phone_lookup": None,
        "email_lookup": None,
    }
    assert (row["birth_year"], row["region"], row["income_band"], row["tags"]) == (None, None, None, [])
    # The ledger is untouched and the audit log only grew, by one row that names no personal data.
    assert await ledger_rows(backend) == ledger_before
    async with backend.database.read_engine.connect() as conn:
        audit_after = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    assert audit_after[: len(audit_before)] == audit_before
    [erasure] = audit_after[len(audit_before) :]
    assert (erasure.action, erasure.member_id, erasure.before, erasure.after) == (
        "eraseMember",
        member.raw,
        {"status": "ACTIVE"},
        {"status": "ERASED", "by": "admin"},
    )
    found = await given.gql.data(MEMBERS, {"filter": {"phone": PHONE}}, given.admin)
    assert found["members"]["edges"] == []


async def test_a_member_erases_itself_and_can_then_do_nothing(given: Scenario) -> None:
    member = await enrolled(given)
    token = given.tokens.member(member.raw)
    merchant = await given.merchant()
    await given.member_ref(merchant, member)  # linked to a shop before

    answer = await given.gql.data(ERASE, {"input": {"memberId": member.gid}}, token)
    me = await given.gql.data("query { me { id } }", token=token)
    earn = await given.purchase(merchant, member, 10_000, "after-erasure")
    by_card = await given.card_purchase(merchant, member.gid, 10_000, "card-after-erasure")
    lock = await given.gql.data(
        "mutation($i: LockMemberInput!) { lockMember(input: $i) { errors { code } } }",
        {"i": {"memberId": member.gid, "reason": "x"}},
        given.admin,
    )
    audit = await given.gql.data(AUDIT, {"filter": {"action": "eraseMember"}}, given.admin)

    assert answer["eraseMember"]["errors"] == []
    assert me["me"] is None
    # Its links retired with it: the shop's reference names no one now; the bank's card is refused.
    assert [(e["code"], e["field"]) for e in earn["errors"]] == [("NOT_FOUND", ["memberRef"])]
    assert [(e["code"], e["field"]) for e in by_card["errors"]] == [("MEMBER_LOCKED", ["memberId"])]
    assert lock["lockMember"]["errors"] == [{"code": "VALIDATION"}]
    [row] = audit["auditLog"]["edges"]
    assert row["node"]["actor"] == f"member-{member.raw}"
    assert row["node"]["after"] == {"status": "ERASED", "by": "member"}


async def test_a_member_cannot_erase_another(backend: Backend, given: Scenario) -> None:
    member, other = await enrolled(given), await given.member("cust-2")

    answer = await given.gql.data(ERASE, {"input": {"memberId": member.gid}}, given.tokens.member(other.raw))

    assert answer["eraseMember"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await member_row(backend, member))["status"] == "ACTIVE"


async def test_erasure_is_refused_while_points_remain(backend: Backend, given: Scenario) -> None:
    member = await enrolled(given)
    assert (await given.adjust(member, 250, "fund"))["errors"] == []
    before = await member_row(backend, member)

    answer = await given.gql.data(ERASE, {"input": {"memberId": member.gid}}, given.admin)

    [error] = answer["eraseMember"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["memberId"])
    assert "250 points" in error["message"]
    assert await member_row(backend, member) == before
    assert (await given.balance(member))["available"] == 250


# --- logs --------------------------------------------------------------------------------------


def test_no_engine_echoes_statements_or_shows_parameters(backend: Backend) -> None:
    for engine in (backend.database.write_engine, backend.database.read_engine):
        assert not engine.echo
        assert engine.sync_engine.hide_parameters is True


async def test_no_log_record_carries_a_phone_or_an_email(
    backend: Backend, given: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    # The app's own loggers and SQLAlchemy's, at DEBUG: statements, their (hidden) parameters, rows.
    # aiosqlite's stays where persistence/engine.py pins it (INFO): at DEBUG it prints parameters.
    loggers = ("loyalty", "loyalty.api", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg")
    levels = {name: logging.getLogger(name).level for name in loggers}
    with caplog.at_level(logging.DEBUG):
        for name in loggers:
            logging.getLogger(name).setLevel(logging.DEBUG)
        try:
            member = await enrolled(given, "cust-logs")
            await given.gql.post(MEMBERS, {"filter": {"phone": PHONE, "email": EMAIL}}, given.admin)
            await given.gql.post(MEMBER, {"id": member.gid}, given.admin)
            # A refused enrolment (the same externalRef) and bad input, which are logged if anything is.
            await given.gql.post(
                "mutation($i: EnrollMemberInput!) { enrollMember(input: $i) { errors { code } } }",
                {"i": {"externalRef": "cust-logs", "phone": PHONE, "email": EMAIL}},
                given.admin,
            )
            await given.gql.post(
                "mutation($i: EnrollMemberInput!) { enrollMember(input: $i) { errors { code } } }",
                {"i": {"externalRef": "cust-bad", "phone": PHONE + "x", "email": EMAIL}},
                given.admin,
            )
            await given.gql.post(ERASE, {"input": {"memberId": member.gid}}, given.admin)
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)

    # The loggers were listening: statements with their parameters hidden, and the rows read.
    assert any("hide_parameters=True" in r.getMessage() for r in caplog.records)
    assert any(r.getMessage().startswith("Row ") for r in caplog.records)
    for record in caplog.records:
        shown = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for secret in (PHONE, "12345678", EMAIL, EMAIL.lower(), "Li.Wei"):
            assert secret not in shown, f"{record.name}: {shown[:300]}"
