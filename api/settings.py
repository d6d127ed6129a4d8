"""Settings from the environment, read once at start."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/loyalty.db"
SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})


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
    cost_budgets: CostBudgets = field(default_factory=CostBudgets)
    # Queries running longer are cancelled (mutations are not: see api/cost.py).
    request_timeout_seconds: float = 10.0
    var_dir: Path = Path("var")

    def __post_init__(self) -> None:
        if self.jwt_algorithm in SYMMETRIC:
            if not self.jwt_secret or len(self.jwt_secret) < 32:
                raise ConfigurationError(f"{self.jwt_algorithm} needs JWT_SECRET of at least 32 characters")
        elif self.jwt_algorithm in ASYMMETRIC:
            if not self.jwt_public_keys:
                raise ConfigurationError(f"{self.jwt_algorithm} needs JWT_PUBLIC_KEYS_FILE (kid -> PEM)")
        else:
            raise ConfigurationError(f"unsupported JWT_ALGORITHM {self.jwt_algorithm!r}")
        if min(asdict(self.cost_budgets).values()) < 1:
            raise ConfigurationError("every COST_BUDGET_* must be at least 1")
        if self.request_timeout_seconds <= 0:
            raise ConfigurationError("REQUEST_TIMEOUT_SECONDS must be positive")

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
            cost_budgets=CostBudgets(
                **{
                    role: int(env.get(f"COST_BUDGET_{role.upper()}", default))
                    for role, default in asdict(CostBudgets()).items()
                }
            ),
            request_timeout_seconds=float(env.get("REQUEST_TIMEOUT_SECONDS", "10")),
            var_dir=var_dir,
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
