"""Print a signed JWT for local use (`scripts/token`).

    scripts/token --role admin
    scripts/token --role merchant --merchant-id 3          # or the API's global id, TWVyY2hhbnQ6Mw==
    scripts/token --role member --member-id 7 --ttl 86400
    scripts/token --role partner --partner-id 1 --subject partner-console
    scripts/token --role processor --processor-id 1       # the bank's card processing

Signs with `Settings.from_env()`, so the token matches what a local server accepts: the development
secret in var/ (created on first use) unless JWT_SECRET is set. Prints only the token.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from collections.abc import Sequence

from api.auth import issue_token
from api.settings import ConfigurationError, Settings
from domain.actors import Role

# role -> (option, attribute, the API's node type whose global id the option also accepts)
ROLE_IDS: dict[Role, tuple[str, str, str]] = {
    Role.MERCHANT: ("--merchant-id", "merchant_id", "Merchant"),
    Role.MEMBER: ("--member-id", "member_id", "Member"),
    Role.PARTNER: ("--partner-id", "partner_id", "PartnerBrand"),
    Role.PROCESSOR: ("--processor-id", "processor_id", "Processor"),
}


def parse_id(value: str, type_name: str) -> int:
    """A positive integer, or the API's global id base64("<type_name>:<n>")."""
    text = value.strip()
    if not text.isdigit():
        try:
            decoded = base64.b64decode(text, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"{value!r} is neither an integer nor a global id") from exc
        found_type, _, node_id = decoded.partition(":")
        if found_type != type_name:
            raise ValueError(f"{value!r} is a {found_type or 'malformed'} id, expected a {type_name} id")
        if not node_id.isdigit():
            raise ValueError(f"{value!r} decodes to {decoded!r}, which has no integer id")
        text = node_id
    number = int(text)
    if number <= 0:
        raise ValueError("ids are positive integers")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/token",
        description="Print a signed JWT for the local server. Ids may be integers or the API's global ids.",
    )
    parser.add_argument("--role", required=True, choices=[r.value for r in Role], help="the caller's role")
    for option, _, type_name in ROLE_IDS.values():
        parser.add_argument(option, metavar="ID", help=f"the {type_name} id (integer or global id)")
    parser.add_argument("--subject", help="the `sub` claim (default: derived from the role and id)")
    parser.add_argument(
        "--ttl", type=int, default=3600, metavar="SECONDS", help="lifetime in seconds (default 3600)"
    )
    return parser


def token_from_args(argv: Sequence[str] | None, settings: Settings | None = None) -> str:
    parser = build_parser()
    args = parser.parse_args(argv)
    role = Role(args.role)
    if args.ttl <= 0:
        parser.error("--ttl must be a positive number of seconds")
    ids: dict[str, int] = {}
    for other, (option, attribute, type_name) in ROLE_IDS.items():
        value = getattr(args, attribute)
        if other is role:
            if value is None:
                parser.error(f"--role {role.value} needs {option} <id>")
            try:
                ids[attribute] = parse_id(value, type_name)
            except ValueError as exc:
                parser.error(f"{option}: {exc}")
        elif value is not None:
            parser.error(f"{option} only goes with --role {other.value}")
    subject = args.subject or _default_subject(role, ids)
    try:
        settings = settings or Settings.from_env()
        return issue_token(settings, role=role, subject=subject, ttl_seconds=args.ttl, **ids)
    except (ConfigurationError, ValueError) as exc:
        parser.exit(1, f"scripts/token: error: {exc}\n")


def _default_subject(role: Role, ids: dict[str, int]) -> str:
    if role is Role.ADMIN:
        return "admin@local"
    prefix = {Role.MERCHANT: "pos", Role.MEMBER: "member", Role.PARTNER: "partner", Role.PROCESSOR: "cards"}[
        role
    ]
    return f"{prefix}-{next(iter(ids.values()))}"


def main(argv: Sequence[str] | None = None) -> None:
    print(token_from_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
