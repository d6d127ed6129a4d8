"""Settings from the environment, read once at start."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from limits import parse_many

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/loyalty.db"
ANONYMOUS = "anonymous"
# Requests per principal (a token's role and subject; an anonymous caller's address), in the `limits`
# notation. Generous for real clients, far below what a script can send:
# - a wallet app makes a few requests per screen: 120 a minute is a busy member;
# - one merchant token may serve a whole chain's tills and web shop: 12,000 a minute (200/s sustained)
#   covers hundreds of tills each posting, qualifying and redeeming at peak;
# - partner brands read reports, admins work in a console: 600 a minute each;
# - without a token only a refusal is reachable, keyed by client address behind NAT: 60 a minute.
# A role not listed (one added later) gets the merchant's, the most generous integration limit.
DEFAULT_RATE_LIMITS: Mapping[str, str] = {
    ANONYMOUS: "60/minute",
    "member": "120/minute",
    "merchant": "12000/minute",
    "partner": "600/minute",
    "admin": "600/minute",
}
# createRedemptionCode per member: a code lives 5 minutes and a visit to a till needs one, two if
# it lapses. 2,000 codes at 450/s was a member filling the code table.
DEFAULT_CODE_CREATION_LIMIT = "5/minute;30/hour"
SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 10
    # JWT: the algorithm is pinned here and never taken from a token's header.
    jwt_algorithm: str = "HS256"
    jwt_secret: str | None = None
    jwt_public_keys: Mapping[str, str] = field(default_factory=dict)  # kid -> PEM
    jwt_issuer: str = "loyalty-local"
    jwt_audience: str = "loyalty-api"
    jwt_leeway_seconds: int = 30
    graphiql: bool = True
    introspection: bool = True
    max_query_depth: int = 10
    max_query_tokens: int = 2000
    max_aliases: int = 15
    max_body_bytes: int = 1_000_000
    var_dir: Path = Path("var")
    # Rate limits: shared through Redis when set, else counted in each process's memory.
    redis_url: str | None = None
    rate_limit_key_prefix: str = "loyalty"
    rate_limits: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    code_creation_limit: str = DEFAULT_CODE_CREATION_LIMIT
    # Guessing secrets (one-time redemption codes, coupon codes, red-packet codes): this many wrong
    # codes of one kind within the window lock that caller out of that kind for the cool-down.
    # A cashier mistyping, or a customer showing a lapsed code, stays well under 5 in 10 minutes.
    guess_max_failures: int = 5
    guess_window_seconds: int = 600
    guess_cooldown_seconds: int = 900

    def __post_init__(self) -> None:
        for name, notation in {**self.rate_limits, "code creation": self.code_creation_limit}.items():
            try:
                parse_many(notation)
            except ValueError as exc:
                raise ConfigurationError(f"rate limit for {name}: {exc}") from exc
        if ANONYMOUS not in self.rate_limits or "merchant" not in self.rate_limits:
            raise ConfigurationError("rate limits need an anonymous and a merchant entry")
        for name in ("guess_max_failures", "guess_window_seconds", "guess_cooldown_seconds"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name.upper()} must be at least 1")
        if self.jwt_algorithm in SYMMETRIC:
            if not self.jwt_secret or len(self.jwt_secret) < 32:
                raise ConfigurationError(f"{self.jwt_algorithm} needs JWT_SECRET of at least 32 characters")
        elif self.jwt_algorithm in ASYMMETRIC:
            if not self.jwt_public_keys:
                raise ConfigurationError(f"{self.jwt_algorithm} needs JWT_PUBLIC_KEYS_FILE (kid -> PEM)")
        else:
            raise ConfigurationError(f"unsupported JWT_ALGORITHM {self.jwt_algorithm!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("VAR_DIR", "var"))
        algorithm = env.get("JWT_ALGORITHM", "HS256").upper()
        secret = env.get("JWT_SECRET")
        if algorithm in SYMMETRIC and not secret:
            secret = local_secret(var_dir)
        keys: dict[str, str] = {}
        if keys_file := env.get("JWT_PUBLIC_KEYS_FILE"):
            keys = json.loads(Path(keys_file).read_text())
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            db_pool_size=int(env.get("DB_POOL_SIZE", "10")),
            jwt_algorithm=algorithm,
            jwt_secret=secret,
            jwt_public_keys=keys,
            jwt_issuer=env.get("JWT_ISSUER", "loyalty-local"),
            jwt_audience=env.get("JWT_AUDIENCE", "loyalty-api"),
            graphiql=_flag(env.get("GRAPHIQL", "true")),
            introspection=_flag(env.get("INTROSPECTION", "true")),
            max_query_depth=int(env.get("MAX_QUERY_DEPTH", "10")),
            max_query_tokens=int(env.get("MAX_QUERY_TOKENS", "2000")),
            max_aliases=int(env.get("MAX_ALIASES", "15")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "1000000")),
            var_dir=var_dir,
            redis_url=env.get("REDIS_URL") or None,
            rate_limit_key_prefix=env.get("RATE_LIMIT_KEY_PREFIX", "loyalty"),
            rate_limits={
                name: env.get(f"RATE_LIMIT_{name.upper()}", default)
                for name, default in DEFAULT_RATE_LIMITS.items()
            },
            code_creation_limit=env.get("RATE_LIMIT_CODE_CREATION", DEFAULT_CODE_CREATION_LIMIT),
            guess_max_failures=int(env.get("GUESS_MAX_FAILURES", "5")),
            guess_window_seconds=int(env.get("GUESS_WINDOW_SECONDS", "600")),
            guess_cooldown_seconds=int(env.get("GUESS_COOLDOWN_SECONDS", "900")),
        )


def local_secret(var_dir: Path) -> str:
    """The development signing secret: generated once into var/ so tokens survive restarts."""
    path = var_dir / "jwt-secret"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}
