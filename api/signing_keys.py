"""Where the key that checks a token's signature comes from: the shared secret, public keys by `kid`
from a file (PEM map or JWKS), or a JWKS URL fetched and cached by PyJWT's PyJWKClient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import jwt

from api.settings import Settings

# How long a fetched key set is trusted before it is fetched again, and how long a fetch may take.
JWKS_CACHE_SECONDS = 300
JWKS_FETCH_TIMEOUT_SECONDS = 5


class UnknownKey(Exception):
    """The token names no key we hold."""


class KeysUnavailable(Exception):
    """The key set could not be fetched or held no usable key."""


class SigningKeys(Protocol):
    # True when key_for may fetch over the network: callers on an event loop run it in a thread.
    fetches: bool

    def key_for(self, token: str) -> Any: ...


class SharedSecret:
    fetches = False

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def key_for(self, token: str) -> Any:
        return self.secret


class KeysById:
    """Public keys held in memory: PEM text or PyJWK (which also pins the algorithm it verifies)."""

    fetches = False

    def __init__(self, keys: Mapping[str, Any]) -> None:
        self.keys = dict(keys)

    @classmethod
    def from_jwks(cls, document: Mapping[str, Any]) -> KeysById:
        found = jwt.PyJWKSet.from_dict(dict(document))
        return cls({k.key_id: k for k in found.keys if k.key_id and k.public_key_use in ("sig", None)})

    def key_for(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or kid not in self.keys:
            raise UnknownKey
        return self.keys[kid]


class RemoteJwks:
    """A JWKS endpoint. PyJWKClient caches the set, and refetches it for an unknown kid at most once per
    cooldown, so a stream of made-up kids cannot make us hammer the identity provider."""

    fetches = True

    def __init__(self, url: str) -> None:
        self.client = jwt.PyJWKClient(url, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_FETCH_TIMEOUT_SECONDS)

    def key_for(self, token: str) -> Any:
        if not isinstance(jwt.get_unverified_header(token).get("kid"), str):
            raise UnknownKey
        try:
            return self.client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable(str(exc)) from exc
        except jwt.PyJWKClientError as exc:
            if "Unable to find a signing key" in str(exc):
                raise UnknownKey from exc
            raise KeysUnavailable(str(exc)) from exc
        except jwt.PyJWKSetError as exc:
            raise KeysUnavailable(str(exc)) from exc


def signing_keys(settings: Settings) -> SigningKeys:
    if settings.jwt_jwks_url is not None:
        return RemoteJwks(settings.jwt_jwks_url)
    if settings.jwt_jwks is not None:
        return KeysById.from_jwks(settings.jwt_jwks)
    if settings.jwt_public_keys:
        return KeysById(settings.jwt_public_keys)
    assert settings.jwt_secret is not None  # Settings refuses a symmetric algorithm without one
    return SharedSecret(settings.jwt_secret)
