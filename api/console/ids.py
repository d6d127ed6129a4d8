"""The API's global ids (relay's base64 of "Type:number") and the plain numbers the console's URLs
use, so a link is readable and never carries base64's '/' or '+'."""

from __future__ import annotations

import base64
import binascii


def global_id(type_name: str, number: int) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode()


def local_id(value: str) -> int:
    """The number in an id the API gave; 0 for anything else (no object has it)."""
    try:
        _, _, number = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return 0
    return int(number) if number.isdigit() else 0
