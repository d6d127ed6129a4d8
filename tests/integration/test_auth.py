"""Tokens: only well-formed, unexpired tokens for our issuer and audience, signed with the pinned
algorithm, are accepted; every refusal is UNAUTHENTICATED and changes nothing."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.auth import InvalidToken, TokenVerifier
from api.settings import ConfigurationError, Settings
from tests.builders import Scenario
from tests.conftest import JWT_SECRET

ADJUST = """mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { errors { code } } }"""


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "ops",
        "role": "admin",
        "iss": "loyalty-local",
        "aud": "loyalty-api",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


BAD_TOKENS = {
    "expired": lambda: sign(claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)),
    "wrong audience": lambda: sign(claims(aud="someone-else")),
    "wrong issuer": lambda: sign(claims(iss="evil")),
    "missing exp": lambda: sign(claims(exp=None)),
    "alg none": lambda: unsigned(claims()),
    "wrong secret": lambda: sign(claims(), secret="another-secret-that-is-also-long-enough-0000"),
    "tampered payload": lambda: tampered(sign(claims(role="member", member_id=1))),
    "unknown role": lambda: sign(claims(role="superuser")),
    "merchant without id": lambda: sign(claims(role="merchant")),
    "not a jwt": lambda: "garbage",
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_tokens_are_refused_and_change_nothing(given: Scenario, case: str) -> None:
    member = await given.member()

    body = await given.gql.post(
        ADJUST,
        {"input": {"memberId": member.gid, "points": 500, "reasonCode": "GOODWILL", "idempotencyKey": "k"}},
        BAD_TOKENS[case](),
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await given.balance(member))["available"] == 0


async def test_no_token_is_unauthenticated(given: Scenario) -> None:
    body = await given.gql.post("query { me { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_token_says_so(given: Scenario) -> None:
    body = await given.gql.post("query { me { id } }", token=BAD_TOKENS["expired"]())
    assert body["errors"][0]["message"] == "Authentication failed: token expired"


def test_es256_public_keys_by_kid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verifier = TokenVerifier(Settings(jwt_algorithm="ES256", jwt_public_keys={"k1": public_pem}))
    token = jwt.encode(claims(role="partner", partner_id=4), key, algorithm="ES256", headers={"kid": "k1"})

    actor = verifier.verify(token)

    assert actor.partner_id == 4
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(jwt.encode(claims(), key, algorithm="ES256", headers={"kid": "other"}))
    # The algorithm is pinned: an HS256 token is refused however it was signed.
    with pytest.raises(InvalidToken):
        verifier.verify(jwt.encode(claims(), JWT_SECRET, algorithm="HS256", headers={"kid": "k1"}))


def test_settings_refuse_weak_or_missing_keys() -> None:
    with pytest.raises(ConfigurationError):
        Settings(jwt_secret="short")
    with pytest.raises(ConfigurationError):
        Settings(jwt_algorithm="RS256")
    with pytest.raises(ConfigurationError):
        Settings(jwt_algorithm="none", jwt_secret=JWT_SECRET)
