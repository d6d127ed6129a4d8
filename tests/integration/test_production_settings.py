"""LOYALTY_ENV=production: no GraphiQL, no introspection, no shared secret unless allowed, and public
keys from a JWKS file or URL; the verifier still refuses another algorithm and an unknown kid."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.auth import InvalidToken, TokenVerifier
from api.settings import ConfigurationError, Settings
from persistence.personal_data import PersonalDataVault
from tests.conftest import JWT_SECRET, Backend, make_client

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def jwk(private_key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    public = jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**public, "kid": kid, "use": "sig", "alg": "ES256"}


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


def token(private_key: Any, kid: str | None = "k1", algorithm: str = "ES256", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "sub": "ops",
        "role": "admin",
        "iss": "loyalty-local",
        "aud": "loyalty-api",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, private_key, algorithm=algorithm, headers=headers)


def hs256_signed_with(secret: bytes) -> str:
    """What PyJWT will not make: an HS256 token whose secret is a public key, the classic confusion."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = jwt.decode(token(KEY), options={"verify_signature": False})
    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
        + "."
        + part(json.dumps(claims).encode())
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


# Production needs keys for members' contact data of its own (api/settings.py).
DATA_KEYS = {
    "PERSONAL_DATA_KEYS": f"{PersonalDataVault.new_key()},{PersonalDataVault.new_key()}",
    "PERSONAL_DATA_LOOKUP_KEY": "production-lookup-key-of-at-least-32-characters",
}


def production(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(
        {"LOYALTY_ENV": "production", "VAR_DIR": str(tmp_path / "var"), **DATA_KEYS, **env}
    )


def write_jwks(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document))
    return str(path)


# --- the production switch ---------------------------------------------------------------------


def test_production_refuses_hs256_without_the_opt_in(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="JWT_ALLOW_HS256=1"):
        production(tmp_path, JWT_SECRET=JWT_SECRET)
    with pytest.raises(ConfigurationError, match="JWT_ALLOW_HS256=1"):
        production(tmp_path, JWT_ALGORITHM="HS512", JWT_SECRET=JWT_SECRET)

    allowed = production(tmp_path, JWT_SECRET=JWT_SECRET, JWT_ALLOW_HS256="1")

    assert (allowed.jwt_algorithm, allowed.production) == ("HS256", True)


def test_production_refuses_to_start_without_personal_data_keys(tmp_path: Path) -> None:
    allowed = {"JWT_SECRET": JWT_SECRET, "JWT_ALLOW_HS256": "1"}
    base = {"LOYALTY_ENV": "production", "VAR_DIR": str(tmp_path / "var"), **allowed}
    with pytest.raises(ConfigurationError, match="PERSONAL_DATA_KEYS and PERSONAL_DATA_LOOKUP_KEY"):
        Settings.from_env(base)
    with pytest.raises(ConfigurationError, match="set both"):
        Settings.from_env({**base, "PERSONAL_DATA_KEYS": DATA_KEYS["PERSONAL_DATA_KEYS"]})
    with pytest.raises(ConfigurationError, match="32 bytes"):
        Settings.from_env({**base, **DATA_KEYS, "PERSONAL_DATA_KEYS": "c2hvcnQ="})
    with pytest.raises(ConfigurationError, match="at least 32"):
        Settings.from_env({**base, **DATA_KEYS, "PERSONAL_DATA_LOOKUP_KEY": "short"})
    assert not (tmp_path / "var" / "personal-data-keys.json").exists()  # never a generated key

    settings = Settings.from_env({**base, **DATA_KEYS})

    assert len(settings.personal_data_keys) == 2  # newest first, the older one still decrypts


def test_development_generates_personal_data_keys_once(tmp_path: Path) -> None:
    env = {"VAR_DIR": str(tmp_path / "var")}

    first, again = Settings.from_env(env), Settings.from_env(env)

    assert first.personal_data_keys == again.personal_data_keys
    assert len(first.personal_data_keys) == 1
    assert first.personal_data_lookup_key == again.personal_data_lookup_key
    assert (tmp_path / "var" / "personal-data-keys.json").stat().st_mode & 0o777 == 0o600


def test_production_never_generates_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        production(tmp_path, JWT_ALLOW_HS256="1")

    assert not (tmp_path / "var" / "jwt-secret").exists()


def test_production_turns_graphiql_and_introspection_off(tmp_path: Path) -> None:
    path = write_jwks(tmp_path, jwks(jwk(KEY, "k1")))

    settings = production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_FILE=path)

    assert (settings.graphiql, settings.introspection) == (False, False)
    for switch in ("GRAPHIQL", "INTROSPECTION"):
        with pytest.raises(ConfigurationError, match="stay off"):
            production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_FILE=path, **{switch: "1"})


def test_development_keeps_its_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path / "var")})

    assert (settings.environment, settings.graphiql, settings.introspection) == ("development", True, True)
    assert settings.jwt_algorithm == "HS256"
    assert settings.jwt_secret == (tmp_path / "var" / "jwt-secret").read_text().strip()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOYALTY_ENV": "staging"}, "LOYALTY_ENV must be one of"),
        ({"JWT_ALGORITHM": "ES256"}, "needs public keys"),
        ({"JWT_ALGORITHM": "ES256", "JWT_JWKS_URL": "file:///etc/passwd"}, "http"),
        ({"JWT_JWKS_URL": "https://id.example.com/jwks.json"}, "needs JWT_ALGORITHM RS256 or ES256"),
        ({"JWT_ALGORITHM": "ES256", "JWT_JWKS_FILE": "/nonexistent/jwks.json"}, "cannot read"),
    ],
)
def test_bad_key_settings_fail_fast(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({"VAR_DIR": str(tmp_path / "var"), "JWT_SECRET": JWT_SECRET, **env})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"keys": []}, "not a usable JWKS"),
        ({"nokeys": 1}, "not a usable JWKS"),
        (jwks({k: v for k, v in jwk(KEY, "k1").items() if k != "kid"}), "no ES256 key with a kid"),
        (jwks({**jwk(KEY, "k1"), "alg": "ES384"}), "no ES256 key with a kid"),
    ],
)
def test_a_jwks_file_without_a_usable_key_fails_fast(tmp_path: Path, document: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_FILE=write_jwks(tmp_path, document))


def test_one_source_of_public_keys_at_a_time(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="choose one source"):
        production(
            tmp_path,
            JWT_ALGORITHM="ES256",
            JWT_JWKS_FILE=write_jwks(tmp_path, jwks(jwk(KEY, "k1"))),
            JWT_JWKS_URL="https://id.example.com/jwks.json",
        )


def test_production_fetches_keys_over_https_only_off_this_machine(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_URL="http://id.example.com/jwks.json")

    local = production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_URL="http://127.0.0.1:9/jwks.json")

    assert local.jwt_jwks_url == "http://127.0.0.1:9/jwks.json"


# --- verifying with a JWKS file ----------------------------------------------------------------


def test_a_jwks_file_verifies_its_keys_and_nothing_else(tmp_path: Path) -> None:
    settings = production(
        tmp_path,
        JWT_ALGORITHM="ES256",
        JWT_JWKS_FILE=write_jwks(tmp_path, jwks(jwk(KEY, "k1"), jwk(OTHER_KEY, "k2"))),
    )
    verifier = TokenVerifier(settings)

    assert verifier.verify(token(KEY, role="partner", partner_id=4)).partner_id == 4
    assert verifier.verify(token(OTHER_KEY, kid="k2")).subject == "ops"
    with pytest.raises(InvalidToken, match="invalid token"):
        verifier.verify(token(OTHER_KEY, kid="k1"))  # another key under k1's name
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(token(KEY, kid="k9"))
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(token(KEY, kid=None))
    # The algorithm is pinned: HS256 signed with the public key as its secret is refused.
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidToken):
        verifier.verify(hs256_signed_with(public_pem))
    with pytest.raises(InvalidToken):
        verifier.verify(token(JWT_SECRET, algorithm="HS256"))


def test_the_pem_keys_file_still_works(tmp_path: Path) -> None:
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"k1": pem.decode()}))
    verifier = TokenVerifier(production(tmp_path, JWT_ALGORITHM="ES256", JWT_PUBLIC_KEYS_FILE=str(path)))

    assert verifier.verify(token(KEY)).subject == "ops"
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(token(KEY, kid="k2"))


# --- verifying with a JWKS URL -----------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts its fetches; the document can be changed."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer(jwks(jwk(KEY, "k1")))
    yield server
    server.close()


async def test_a_jwks_url_is_fetched_once_and_verifies(tmp_path: Path, jwks_server: JwksServer) -> None:
    verifier = TokenVerifier(production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_URL=jwks_server.url))

    first = await verifier.verify_async(token(KEY, role="member", member_id=7))
    second = await verifier.verify_async(token(KEY, role="merchant", merchant_id=3))

    assert (first.member_id, second.merchant_id) == (7, 3)
    assert jwks_server.fetches == 1, "the key set is cached"
    with pytest.raises(InvalidToken, match="invalid token"):
        await verifier.verify_async(token(OTHER_KEY))
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await verifier.verify_async(token(OTHER_KEY, kid="k2"))
    with pytest.raises(InvalidToken):
        await verifier.verify_async(token(JWT_SECRET, algorithm="HS256"))


async def test_an_unreachable_jwks_url_refuses_tokens(tmp_path: Path, jwks_server: JwksServer) -> None:
    url = jwks_server.url
    jwks_server.close()
    verifier = TokenVerifier(production(tmp_path, JWT_ALGORITHM="ES256", JWT_JWKS_URL=url))

    with pytest.raises(InvalidToken, match="signing keys unavailable"):
        await verifier.verify_async(token(KEY))


# --- the production app ------------------------------------------------------------------------

ADMIN_QUERY = "{ members(first: 1) { edges { node { id } } } }"


async def test_the_production_app_takes_jwks_tokens_and_hides_its_schema(
    tmp_path: Path, backend: Backend, jwks_server: JwksServer
) -> None:
    settings = production(
        tmp_path, DATABASE_URL=backend.url, JWT_ALGORITHM="ES256", JWT_JWKS_URL=jwks_server.url
    )
    async with make_client(settings, backend.database) as http:
        admin = await http.post(
            "/graphql", json={"query": ADMIN_QUERY}, headers={"Authorization": f"Bearer {token(KEY)}"}
        )
        forged = await http.post(
            "/graphql", json={"query": ADMIN_QUERY}, headers={"Authorization": f"Bearer {token(OTHER_KEY)}"}
        )
        introspection = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        ide = await http.get("/graphql", headers={"accept": "text/html"})

    assert admin.json() == {"data": {"members": {"edges": []}}}
    assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "introspection has been disabled" in introspection.json()["errors"][0]["message"]
    assert ide.status_code == 404
    assert "graphiql" not in ide.text.lower()
