"""Settings from the environment, read once at start; a bad combination fails here, before serving."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jwt
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
# Where `npm ci --prefix graphiql` puts GraphiQL's browser files: beside the code, not the working directory.
DEFAULT_GRAPHIQL_ASSETS_DIR = Path(__file__).resolve().parent.parent / "graphiql" / "node_modules"
SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})
ENVIRONMENTS = frozenset({"development", "production"})
LOG_FORMATS = frozenset({"json", "text"})


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class CostBudgets:
    """The most one request may cost (api/cost.py: about one per object it makes the server build;
    the attack of 15 aliased pages of 100 within pages of 100 costs 306,030), by the caller's role.
    member: a page of 100 with an object nested in each (about 300) beside the balance, or a wallet
    home screen with several 20-item pages (about 190), never a page inside a page; four members at
    the budget at once keep a plain balance read under a second (scripts/bench --only cost).
    merchant, partner: a page of 100 offers with their usage and funding (about 1,300). admin: a
    page of 100 members each with balance, tier and a 20-entry ledger page (about 5,600).
    Anonymous callers can read next to nothing."""

    anonymous: int = 100
    member: int = 500
    merchant: int = 2_000
    partner: int = 2_000
    admin: int = 10_000


@dataclass(frozen=True)
class Settings:
    # "production" turns GraphiQL and introspection off and refuses a shared JWT secret unless allowed.
    environment: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 10
    # JWT: the algorithm is pinned here and never taken from a token's header.
    jwt_algorithm: str = "HS256"
    jwt_secret: str | None = None
    jwt_allow_hs256: bool = False  # production only: accept a shared secret anyway
    # Public keys for RS/ES algorithms, from exactly one source:
    jwt_public_keys: Mapping[str, str] = field(default_factory=dict)  # kid -> PEM (JWT_PUBLIC_KEYS_FILE)
    jwt_jwks: Mapping[str, Any] | None = None  # a JWKS document (JWT_JWKS_FILE)
    jwt_jwks_url: str | None = None  # fetched and cached by PyJWKClient
    jwt_issuer: str = "loyalty-local"
    jwt_audience: str = "loyalty-api"
    jwt_leeway_seconds: int = 30
    graphiql: bool = True
    graphiql_assets_dir: Path = DEFAULT_GRAPHIQL_ASSETS_DIR
    introspection: bool = True
    max_query_depth: int = 10
    max_query_tokens: int = 2000
    max_aliases: int = 15
    max_body_bytes: int = 1_000_000
    # Settlement files (POST /settlements) are capped on their own: a day's file is larger than any
    # GraphQL request. The app's worker posts them unless turned off (then `scripts/jobs settlements`).
    settlement_max_bytes: int = 20_000_000
    settlement_worker: bool = True
    settlement_poll_seconds: float = 5.0
    cost_budgets: CostBudgets = field(default_factory=CostBudgets)
    # Queries running longer are cancelled (mutations are not: see api/cost.py).
    request_timeout_seconds: float = 10.0
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
    # Members' phone and email at rest: Fernet keys, newest first (the first encrypts, all decrypt),
    # and the HMAC key of the lookup hashes. Generated into var/ outside production.
    personal_data_keys: tuple[str, ...] = ()
    personal_data_lookup_key: str | None = None
    # Members' behavioural profiles: each purchase and refund adds to the member's day counters.
    # PROFILES=false stops that (insights then show only what was counted before), e.g. to measure it.
    profiles: bool = True
    # Offer exposures (me.recommendedOffers' listings) are held in memory and written in batches
    # this often (api/exposure_buffer.py); 0 writes each listing at once, in its own transaction.
    exposure_flush_seconds: float = 1.0
    # Operating it (README): who may read /metrics (api/metrics.py), traces (api/tracing.py), and
    # the log lines' format (telemetry/logs.py): json in production, text at a developer's terminal.
    metrics_token: str | None = None
    tracing: bool = False
    log_format: str = "text"
    # Business events to the outbox (README, "Events and webhooks"). OUTBOX_ENABLED=false writes none:
    # only to measure what the outbox costs the earn path.
    outbox: bool = True

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def signs_locally(self) -> bool:
        """Tokens are signed with the shared secret, so `scripts/token` can make them."""
        return self.jwt_algorithm in SYMMETRIC

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
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"LOYALTY_ENV must be one of {', '.join(sorted(ENVIRONMENTS))}, not {self.environment!r}"
            )
        if self.production and (self.graphiql or self.introspection):
            raise ConfigurationError("GRAPHIQL and INTROSPECTION stay off when LOYALTY_ENV=production")
        sources = [
            name
            for name, given in (
                ("JWT_PUBLIC_KEYS_FILE", bool(self.jwt_public_keys)),
                ("JWT_JWKS_FILE", self.jwt_jwks is not None),
                ("JWT_JWKS_URL", self.jwt_jwks_url is not None),
            )
            if given
        ]
        if self.jwt_algorithm in SYMMETRIC:
            self._check_secret(sources)
        elif self.jwt_algorithm in ASYMMETRIC:
            self._check_public_keys(sources)
        else:
            raise ConfigurationError(f"unsupported JWT_ALGORITHM {self.jwt_algorithm!r}")
        if min(asdict(self.cost_budgets).values()) < 1:
            raise ConfigurationError("every COST_BUDGET_* must be at least 1")
        if self.request_timeout_seconds <= 0:
            raise ConfigurationError("REQUEST_TIMEOUT_SECONDS must be positive")
        self._check_personal_data_keys()
        if self.log_format not in LOG_FORMATS:
            raise ConfigurationError(f"LOG_FORMAT must be json or text, not {self.log_format!r}")
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ConfigurationError("METRICS_TOKEN needs at least 16 characters")

    def _check_personal_data_keys(self) -> None:
        """Production refuses to start without keys of its own; elsewhere they may be left out only
        by code that never opens members' contact data (tests pass a Database that has its own)."""
        if not self.personal_data_keys and not self.personal_data_lookup_key:
            if self.production:
                raise ConfigurationError(
                    "LOYALTY_ENV=production needs PERSONAL_DATA_KEYS and PERSONAL_DATA_LOOKUP_KEY"
                )
            return
        if not self.personal_data_keys or not self.personal_data_lookup_key:
            raise ConfigurationError("set both PERSONAL_DATA_KEYS and PERSONAL_DATA_LOOKUP_KEY")
        for key in self.personal_data_keys:
            try:
                raw = base64.urlsafe_b64decode(key.encode())
            except (ValueError, binascii.Error) as exc:
                raise ConfigurationError("PERSONAL_DATA_KEYS: a key is not url-safe base64") from exc
            if len(raw) != 32:
                raise ConfigurationError(
                    "PERSONAL_DATA_KEYS: each key is 32 bytes, url-safe base64 (44 characters)"
                )
        if len(self.personal_data_lookup_key) < 32:
            raise ConfigurationError("PERSONAL_DATA_LOOKUP_KEY needs at least 32 characters")
        if len(set(self.personal_data_keys)) != len(self.personal_data_keys):
            raise ConfigurationError("PERSONAL_DATA_KEYS names a key twice")

    def _check_secret(self, sources: list[str]) -> None:
        if self.production and not self.jwt_allow_hs256:
            raise ConfigurationError(
                f"LOYALTY_ENV=production refuses {self.jwt_algorithm}: set JWT_ALGORITHM=RS256 or ES256 with "
                "JWT_JWKS_FILE or JWT_JWKS_URL, or allow the shared secret with JWT_ALLOW_HS256=1"
            )
        if not self.jwt_secret or len(self.jwt_secret) < 32:
            raise ConfigurationError(f"{self.jwt_algorithm} needs JWT_SECRET of at least 32 characters")
        if sources:
            raise ConfigurationError(
                f"{sources[0]} needs JWT_ALGORITHM RS256 or ES256, not {self.jwt_algorithm}"
            )

    def _check_public_keys(self, sources: list[str]) -> None:
        if not sources:
            raise ConfigurationError(
                f"{self.jwt_algorithm} needs public keys: JWT_JWKS_FILE, JWT_JWKS_URL or JWT_PUBLIC_KEYS_FILE"
            )
        if len(sources) > 1:
            raise ConfigurationError(f"choose one source of public keys, not {' and '.join(sources)}")
        if self.jwt_jwks is not None:
            self._check_jwks(self.jwt_jwks)
        if self.jwt_jwks_url is not None:
            self._check_jwks_url(self.jwt_jwks_url)

    def _check_jwks(self, document: Mapping[str, Any]) -> None:
        try:
            keys = jwt.PyJWKSet.from_dict(dict(document)).keys
        except (jwt.PyJWTError, AttributeError, TypeError) as exc:
            raise ConfigurationError(f"JWT_JWKS_FILE is not a usable JWKS: {exc}") from exc
        if not any(k.key_id and k.algorithm_name == self.jwt_algorithm for k in keys):
            raise ConfigurationError(f"JWT_JWKS_FILE holds no {self.jwt_algorithm} key with a kid")

    def _check_jwks_url(self, url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ConfigurationError(f"JWT_JWKS_URL must be an http(s) URL, not {url!r}")
        # Whoever can change the keys in transit can sign tokens: plain HTTP only on this machine.
        if self.production and parsed.scheme != "https" and not _is_loopback(parsed.hostname):
            raise ConfigurationError("JWT_JWKS_URL must use https when LOYALTY_ENV=production")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        environment = env.get("LOYALTY_ENV", "development").strip().lower()
        production = environment == "production"
        var_dir = Path(env.get("VAR_DIR", "var"))
        algorithm = env.get("JWT_ALGORITHM", "HS256").upper()
        secret = env.get("JWT_SECRET")
        # The generated secret is per machine: production servers share one given secret, if any.
        if algorithm in SYMMETRIC and not secret and not production:
            secret = local_secret(var_dir)
        data_keys = tuple(k.strip() for k in env.get("PERSONAL_DATA_KEYS", "").split(",") if k.strip())
        lookup_key = env.get("PERSONAL_DATA_LOOKUP_KEY") or None
        if not data_keys and not lookup_key and not production:
            data_keys, lookup_key = local_personal_data_keys(var_dir)
        return cls(
            environment=environment,
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            db_pool_size=int(env.get("DB_POOL_SIZE", "10")),
            jwt_algorithm=algorithm,
            jwt_secret=secret,
            jwt_allow_hs256=_flag(env.get("JWT_ALLOW_HS256", "false")),
            jwt_public_keys=_json_file(env, "JWT_PUBLIC_KEYS_FILE") or {},
            jwt_jwks=_json_file(env, "JWT_JWKS_FILE"),
            jwt_jwks_url=env.get("JWT_JWKS_URL") or None,
            jwt_issuer=env.get("JWT_ISSUER", "loyalty-local"),
            jwt_audience=env.get("JWT_AUDIENCE", "loyalty-api"),
            graphiql=_flag(env.get("GRAPHIQL", "false" if production else "true")),
            profiles=_flag(env.get("PROFILES", "true")),
            exposure_flush_seconds=float(env.get("EXPOSURE_FLUSH_SECONDS", "1")),
            outbox=_flag(env.get("OUTBOX_ENABLED", "true")),
            graphiql_assets_dir=Path(env.get("GRAPHIQL_ASSETS_DIR") or DEFAULT_GRAPHIQL_ASSETS_DIR),
            introspection=_flag(env.get("INTROSPECTION", "false" if production else "true")),
            max_query_depth=int(env.get("MAX_QUERY_DEPTH", "10")),
            max_query_tokens=int(env.get("MAX_QUERY_TOKENS", "2000")),
            max_aliases=int(env.get("MAX_ALIASES", "15")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "1000000")),
            settlement_max_bytes=int(env.get("SETTLEMENT_MAX_BYTES", "20000000")),
            settlement_worker=_flag(env.get("SETTLEMENT_WORKER", "true")),
            settlement_poll_seconds=float(env.get("SETTLEMENT_POLL_SECONDS", "5")),
            cost_budgets=CostBudgets(
                **{
                    role: int(env.get(f"COST_BUDGET_{role.upper()}", default))
                    for role, default in asdict(CostBudgets()).items()
                }
            ),
            request_timeout_seconds=float(env.get("REQUEST_TIMEOUT_SECONDS", "10")),
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
            personal_data_keys=data_keys,
            personal_data_lookup_key=lookup_key,
            metrics_token=env.get("METRICS_TOKEN") or None,
            tracing=_flag(env.get("TRACING", "false")) or bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")),
            log_format=env.get("LOG_FORMAT", "json" if production else "text").strip().lower(),
        )


def local_secret(var_dir: Path) -> str:
    """The development signing secret: generated once into var/ so tokens survive restarts."""
    path = var_dir / "jwt-secret"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def local_personal_data_keys(var_dir: Path) -> tuple[tuple[str], str]:
    """Development keys for members' contact data, generated once into var/ beside the embedded
    database they protect (like the JWT secret); never used in production."""
    path = var_dir / "personal-data-keys.json"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        keys = {
            "encryption": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "lookup": secrets.token_urlsafe(48),
        }
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
    stored = json.loads(path.read_text())
    return (stored["encryption"],), stored["lookup"]


def _json_file(env: Mapping[str, str], name: str) -> dict[str, Any] | None:
    path = env.get(name)
    if not path:
        return None
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{name}: cannot read JSON from {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(f"{name}: {path} must hold a JSON object")
    return document


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}
