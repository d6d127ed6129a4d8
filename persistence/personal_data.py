"""Members' phone and email at rest: encrypted, with a keyed hash for exact lookup.

Encryption is Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography` package) through
MultiFernet: the first key encrypts, every key decrypts, so a new key is put first and the old ones
stay until `scripts/rotate-personal-data` has re-encrypted every row. Lookup is HMAC-SHA256 under a
key of its own over the normalised value (digits and a leading + for a phone, the lower-cased address
for an email), so `members(filter: {phone})` is an index probe and the database never holds a value
that a dictionary of phone numbers could reverse without the key.

The keys come from configuration (api/settings.py) through whoever builds the Database; each engine
knows its vault, so every unit of work and read over that engine encrypts and decrypts alike. This is
the only module that imports `cryptography`; the domain sees plain values only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from weakref import WeakKeyDictionary

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.ext.asyncio import AsyncEngine

# Fixed prefixes keep a phone's hash from ever equalling an email's.
_PHONE, _EMAIL = b"phone:", b"email:"


class PersonalDataKeyError(ValueError):
    """Keys that cannot be used, or a value no configured key can decrypt."""


def normalise_phone(phone: str) -> str:
    """What makes two spellings of one number equal: digits, and a leading + kept."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" + digits) if phone.strip().startswith("+") else digits


def normalise_email(email: str) -> str:
    return email.strip().lower()


class PersonalDataVault:
    def __init__(self, encryption_keys: Sequence[str], lookup_key: str) -> None:
        if not encryption_keys:
            raise PersonalDataKeyError("at least one encryption key is needed")
        try:
            fernets = [Fernet(key.encode()) for key in encryption_keys]
        except (ValueError, TypeError) as exc:
            raise PersonalDataKeyError(
                "an encryption key is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from exc
        self._first, self._fernet = fernets[0], MultiFernet(fernets)
        if len(lookup_key) < 32:
            raise PersonalDataKeyError("the lookup key needs at least 32 characters")
        self._lookup_key = lookup_key.encode()

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # never the token itself in the message: it is personal data
            raise PersonalDataKeyError("no configured key decrypts a stored value") from exc

    def reseal(self, token: str | None) -> str | None:
        """The same value under the first key (rotation)."""
        return None if token is None else self._fernet.rotate(token.encode()).decode()

    def under_first_key(self, token: str | None) -> bool:
        if token is None:
            return True
        try:
            self._first.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def phone_lookup(self, phone: str | None) -> str | None:
        return None if phone is None else self._hash(_PHONE, normalise_phone(phone))

    def email_lookup(self, email: str | None) -> str | None:
        return None if email is None else self._hash(_EMAIL, normalise_email(email))

    def _hash(self, kind: bytes, value: str) -> str:
        return hmac.new(self._lookup_key, kind + value.encode(), hashlib.sha256).hexdigest()


class _NoVault:
    """Stands in where no keys were given (verify-ledger, a job over members without contact data):
    an absent value passes, any real one is refused with the reason."""

    def _refuse(self, value: str | None) -> str | None:
        if value is None:
            return None
        raise PersonalDataKeyError(
            "this database was opened without personal-data keys "
            "(PERSONAL_DATA_KEYS, PERSONAL_DATA_LOOKUP_KEY)"
        )

    seal = open = reseal = phone_lookup = email_lookup = _refuse


_vaults: WeakKeyDictionary[AsyncEngine, PersonalDataVault] = WeakKeyDictionary()


def attach(engine: AsyncEngine, vault: PersonalDataVault) -> None:
    _vaults[engine] = vault


def share(source: AsyncEngine, target: AsyncEngine) -> None:
    """`target` (the same database under other execution options) uses `source`'s keys."""
    if (vault := _vaults.get(source)) is not None:
        _vaults[target] = vault


def vault_for(engine: AsyncEngine) -> PersonalDataVault:
    return _vaults.get(engine) or _NoVault()  # type: ignore[return-value]  # same methods, each refusing
