"""Rate-limit settings from the environment, and the limiter's behaviour that needs no database."""

from __future__ import annotations

import asyncio
import logging

import pytest

from api.rate_limits import Limits, storage_uri
from api.settings import DEFAULT_CODE_CREATION_LIMIT, DEFAULT_RATE_LIMITS, ConfigurationError, Settings
from domain.actors import Actor, Role
from domain.security import Secret

SECRET = "a-secret-long-enough-for-hs256-0123456789abcdef"


def test_the_production_defaults_hold_without_the_environment_saying_otherwise() -> None:
    settings = Settings.from_env({"JWT_SECRET": SECRET})

    assert settings.redis_url is None
    assert dict(settings.rate_limits) == dict(DEFAULT_RATE_LIMITS)
    assert DEFAULT_RATE_LIMITS["member"] == "120/minute"
    assert DEFAULT_RATE_LIMITS["merchant"] == "12000/minute"
    assert settings.code_creation_limit == DEFAULT_CODE_CREATION_LIMIT == "5/minute;30/hour"
    assert (settings.guess_max_failures, settings.guess_window_seconds, settings.guess_cooldown_seconds) == (
        5,
        600,
        900,
    )


def test_every_limit_is_a_setting() -> None:
    settings = Settings.from_env(
        {
            "JWT_SECRET": SECRET,
            "REDIS_URL": "redis://cache:6379/2",
            "RATE_LIMIT_KEY_PREFIX": "loyalty-eu",
            "RATE_LIMIT_MEMBER": "10/second;300/minute",
            "RATE_LIMIT_ANONYMOUS": "1/second",
            "RATE_LIMIT_CODE_CREATION": "3/minute",
            "GUESS_MAX_FAILURES": "8",
            "GUESS_WINDOW_SECONDS": "120",
            "GUESS_COOLDOWN_SECONDS": "60",
        }
    )

    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.rate_limit_key_prefix == "loyalty-eu"
    assert settings.rate_limits["member"] == "10/second;300/minute"
    assert settings.rate_limits["anonymous"] == "1/second"
    assert settings.rate_limits["merchant"] == DEFAULT_RATE_LIMITS["merchant"]
    assert settings.code_creation_limit == "3/minute"
    assert (settings.guess_max_failures, settings.guess_window_seconds, settings.guess_cooldown_seconds) == (
        8,
        120,
        60,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"RATE_LIMIT_MERCHANT": "lots"},
        {"RATE_LIMIT_CODE_CREATION": "5 per fortnight"},
        {"GUESS_MAX_FAILURES": "0"},
        {"GUESS_COOLDOWN_SECONDS": "0"},
    ],
)
def test_a_limit_that_means_nothing_is_refused_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env({"JWT_SECRET": SECRET, **env})


def test_redis_urls_become_the_async_storage_scheme() -> None:
    assert storage_uri("redis://127.0.0.1:6379/0") == "async+redis://127.0.0.1:6379/0"
    assert storage_uri("rediss://cache:6380") == "async+rediss://cache:6380"
    assert storage_uri("unix:///run/redis.sock") == "async+redis+unix:///run/redis.sock"


async def test_a_role_without_its_own_limit_gets_the_merchants() -> None:
    limits = Limits(Settings(jwt_secret=SECRET, rate_limits={"anonymous": "1/day", "merchant": "2/day"}))
    admin = Actor(role=Role.ADMIN, subject="ops")

    answers = [await limits.request_refused(admin, "10.0.0.1") for _ in range(3)]

    assert answers[:2] == [None, None]
    assert isinstance(answers[2], int)
    assert answers[2] >= 1


async def test_an_unreachable_store_lets_requests_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Port 1 refuses connections at once: the store is down, not slow.
    limits = Limits(
        Settings(jwt_secret=SECRET, redis_url="redis://127.0.0.1:1/0", rate_limits={**DEFAULT_RATE_LIMITS})
    )
    member = Actor(role=Role.MEMBER, subject="m-1", member_id=1)

    with caplog.at_level(logging.ERROR, logger="loyalty.api"):
        refused = await limits.request_refused(member, "10.0.0.1")
        locked = await limits.locked_out(Secret.COUPON_CODE, member)
        starts_lockout = await limits.wrong_code(Secret.COUPON_CODE, member)

    assert (refused, locked, starts_lockout) == (None, None, False)
    assert sum("rate-limit store unavailable" in r.getMessage() for r in caplog.records) == 3


async def test_a_lockout_ends_with_its_cool_down_and_the_count_starts_afresh() -> None:
    limits = Limits(
        Settings(jwt_secret=SECRET, guess_max_failures=2, guess_window_seconds=60, guess_cooldown_seconds=1)
    )
    member = Actor(role=Role.MEMBER, subject="m-1", member_id=1)

    starts = [await limits.wrong_code(Secret.COUPON_CODE, member) for _ in range(2)]
    during = await limits.locked_out(Secret.COUPON_CODE, member)
    other_kind = await limits.locked_out(Secret.RED_PACKET_CODE, member)
    await asyncio.sleep(1.1)
    after = await limits.locked_out(Secret.COUPON_CODE, member)
    first_after = await limits.wrong_code(Secret.COUPON_CODE, member)

    assert starts == [False, True]
    assert during == 1
    assert other_kind is None
    assert after is None
    assert first_after is False  # one wrong code after the cool-down is not a new lockout
