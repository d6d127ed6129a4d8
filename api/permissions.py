"""Authorization declared on fields: authentication first (UNAUTHENTICATED), then role (FORBIDDEN)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from api.context import Info
from api.errors import PublicError
from domain.actors import Role


class IsAuthenticated(BasePermission):
    message = "Authentication required: send Authorization: Bearer <token>"
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012 (declared by BasePermission)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.actor is None and info.context.auth_error:
            raise PublicError(f"Authentication failed: {info.context.auth_error}", "UNAUTHENTICATED")
        return info.context.actor is not None


class _HasRole(BasePermission):
    roles: frozenset[Role] = frozenset()
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 (declared by BasePermission)

    @property
    def message(self) -> str:  # type: ignore[override]  # a property for the attribute
        return f"Forbidden: needs role {' or '.join(sorted(r.value for r in self.roles))}"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        return actor is not None and actor.role in self.roles


class IsAdmin(_HasRole):
    roles = frozenset({Role.ADMIN})


class IsMember(_HasRole):
    roles = frozenset({Role.MEMBER})


class IsMerchant(_HasRole):
    roles = frozenset({Role.MERCHANT})


class IsMerchantOrProcessor(_HasRole):
    roles = frozenset({Role.MERCHANT, Role.PROCESSOR})


class IsAdminOrMerchant(_HasRole):
    roles = frozenset({Role.ADMIN, Role.MERCHANT})


class IsAdminOrPartner(_HasRole):
    roles = frozenset({Role.ADMIN, Role.PARTNER})


class IsAdminOrMember(_HasRole):
    roles = frozenset({Role.ADMIN, Role.MEMBER})


ADMIN: list[type[BasePermission]] = [IsAuthenticated, IsAdmin]
MEMBER: list[type[BasePermission]] = [IsAuthenticated, IsMember]
MERCHANT: list[type[BasePermission]] = [IsAuthenticated, IsMerchant]
MERCHANT_OR_PROCESSOR: list[type[BasePermission]] = [IsAuthenticated, IsMerchantOrProcessor]
ADMIN_OR_MEMBER: list[type[BasePermission]] = [IsAuthenticated, IsAdminOrMember]
AUTHENTICATED: list[type[BasePermission]] = [IsAuthenticated]
ADMIN_OR_PARTNER: list[type[BasePermission]] = [IsAuthenticated, IsAdminOrPartner]
ADMIN_OR_MERCHANT: list[type[BasePermission]] = [IsAuthenticated, IsAdminOrMerchant]
