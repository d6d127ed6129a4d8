"""What the machine can do without us: the earn transaction as plain SQL, driven by pgbench.

pgbench is PostgreSQL's own C load driver with prepared statements, so the figure is the database's
ceiling for the same rows our earn writes (idempotency row, purchase, balance update, journal entry
and lines, lot), at the same concurrency, in the same run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from sqlalchemy.engine import make_url

EARN_SQL = """\
\\set member random({first_member}, {last_member})
\\set merchant random({first_merchant}, {last_merchant})
BEGIN;
INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
  VALUES ('merchant:' || :merchant, gen_random_uuid()::text, repeat('0', 64), '{{"result": {{}}}}', now());
INSERT INTO purchases (member_id, merchant_id, amount_minor, currency, channel, occurred_at, reference,
                       points_earned, points_pending, created_at)
  VALUES (:member, :merchant, 12345, 'CNY', 'OFFLINE', now(), NULL, 123, 0, now());
UPDATE member_balances SET available = available + 123, lifetime_earned = lifetime_earned + 123
  WHERE member_id = :member AND available <= 2147483647 - 123;
INSERT INTO journal_entries (member_id, kind, origin_type, origin_id, description, created_at)
  VALUES (:member, 'EARN', 'PURCHASE', currval(pg_get_serial_sequence('purchases', 'id')),
          'Earned at Bench Merchant', now());
INSERT INTO journal_lines (entry_id, account_kind, member_id, owner_id, amount)
  VALUES (currval(pg_get_serial_sequence('journal_entries', 'id')), 'ISSUANCE', NULL, NULL, -123),
         (currval(pg_get_serial_sequence('journal_entries', 'id')), 'MEMBER_AVAILABLE', :member, NULL, 123);
INSERT INTO points_lots (member_id, entry_id, points, remaining, earned_at, expires_at)
  VALUES (:member, currval(pg_get_serial_sequence('journal_entries', 'id')), 123, 123, now(),
          now() + interval '24 months');
END;
"""


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    tps: float
    latency_ms: float


def pgbench_available() -> bool:
    return shutil.which("pgbench") is not None


def raw_earn(
    url: str, *, members: list[int], merchants: list[int], clients: int, seconds: int
) -> PgbenchResult:
    parsed = make_url(url)
    script = EARN_SQL.format(
        first_member=min(members),
        last_member=max(members),
        first_merchant=min(merchants),
        last_merchant=max(merchants),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as file:
        file.write(script)
        file.flush()
        command = [
            "pgbench",
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            f"--jobs={min(clients, 2)}",
            f"--time={seconds}",
            f"--file={file.name}",
            f"--host={parsed.host or '127.0.0.1'}",
            f"--port={parsed.port or 5432}",
            f"--username={parsed.username or 'postgres'}",
            parsed.database or "postgres",
        ]
        env = {**os.environ, "PGPASSWORD": parsed.password} if parsed.password else None
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{done.stderr}")
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if not tps or not latency:
        raise SystemExit(f"could not read pgbench's output:\n{done.stdout}")
    return PgbenchResult(clients, float(tps.group(1)), float(latency.group(1)))
