"""Errors at the edge: domain errors become typed UserErrors; anything unexpected is masked and
logged with the request id."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError

from api.safe_traceback import safe_traceback
from api.types.enums import describe_values
from domain.errors import DomainError, TooManyAttempts, Unavailable
from domain.errors import ErrorCode as DomainErrorCode

logger = logging.getLogger("loyalty.api")

strawberry.enum(DomainErrorCode, name="ErrorCode", description="Why a mutation said no.")
describe_values(
    DomainErrorCode,
    {
        DomainErrorCode.VALIDATION: "The input is malformed or breaks a rule; it is not stored under the "
        "idempotency key, so a corrected retry may reuse the key.",
        DomainErrorCode.NOT_FOUND: "No such object, or none the caller may use.",
        DomainErrorCode.FORBIDDEN: "The caller's role or token may not do this.",
        DomainErrorCode.ALREADY_EXISTS: "Something with this unique value exists already.",
        DomainErrorCode.INSUFFICIENT_POINTS: "The member has fewer available points than this needs.",
        DomainErrorCode.MEMBER_LOCKED: "The member is locked or closed: it may not earn or spend.",
        DomainErrorCode.OFFER_BUDGET_EXHAUSTED: "The offer's budget is spent.",
        DomainErrorCode.REWARD_OUT_OF_STOCK: "The reward has no units left.",
        DomainErrorCode.REWARD_INACTIVE: "The reward is no longer offered.",
        DomainErrorCode.LIMIT_REACHED: "A limit is reached: a coupon or red packet used up, the monthly "
        "transfer limit, a reward's per-member limit, the largest balance a member may hold.",
        DomainErrorCode.IDEMPOTENCY_KEY_REUSED: "This idempotency key was used before with different input.",
        DomainErrorCode.ALREADY_FINALIZED: "The redemption was already resolved (captured, voided, expired, "
        "fulfilled or cancelled).",
        DomainErrorCode.RISK_REVIEW: "Risk control: in errors, a rule refused the movement and nothing "
        "changed; in a payload's notices, the movement was accepted and its points wait for an admin's "
        "review (balance.underReview).",
        DomainErrorCode.TOO_MANY_ATTEMPTS: "Too many wrong codes of this kind lately: wait retryAfter "
        "seconds.",
        DomainErrorCode.EXPIRED: "The voucher's validity ended: it can no longer be used; its points "
        "went, or are about to go, back to the member.",
        DomainErrorCode.OUTCOME_UNKNOWN: "The database connection failed while committing: the change may "
        "or may not be made. Retry with the same idempotency key; it is safe.",
        DomainErrorCode.UNAVAILABLE: "The database could not be reached: nothing changed; retry later.",
    },
)
ErrorCode = DomainErrorCode


@strawberry.type(description="A business rejection or invalid input; nothing was changed.")
class UserError:
    code: ErrorCode = strawberry.field(description="What kind of refusal.")
    field: list[str] | None = strawberry.field(description="Path of the input field concerned.")
    message: str = strawberry.field(description="A readable explanation.")
    retry_after: int | None = strawberry.field(
        default=None, description="TOO_MANY_ATTEMPTS: the seconds to wait before trying again."
    )

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            code=error.code,
            field=list(error.field) if error.field else None,
            message=error.message,
            retry_after=error.retry_after if isinstance(error, TooManyAttempts) else None,
        )


class PublicError(GraphQLError):
    """An error raised on purpose with a message safe for clients (never masked)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def is_unexpected(error: GraphQLError) -> bool:
    """Mask only exceptions raised while resolving: syntax, validation and permission errors stay,
    and so does a database out of reach (UNAVAILABLE: the client may retry)."""
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, GraphQLError | Unavailable)
    )


def code_unavailable(errors: list[GraphQLError]) -> None:
    """A query that found the database out of reach answers extensions.code UNAVAILABLE (retry
    later) rather than the masked "Unexpected error."."""
    for error in errors:
        if isinstance(error.original_error, Unavailable):
            error.extensions = {**(error.extensions or {}), "code": DomainErrorCode.UNAVAILABLE.value}


def log_errors(errors: list[GraphQLError], request_id: str) -> None:
    for error in errors:
        if isinstance(error.original_error, Unavailable):
            logger.warning("request_id=%s database unavailable at %s", request_id, error.path)
        elif is_unexpected(error) and error.original_error is not None:
            # Not exc_info: logging would print database messages, which may quote members' data.
            logger.error(
                "unexpected error request_id=%s path=%s\n%s",
                request_id,
                error.path,
                safe_traceback(error.original_error),
            )
        else:
            logger.debug("request_id=%s client error: %s", request_id, error.message)


class RateLimited(PublicError):
    """Too many of this operation lately; answered with HTTP 429 and Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests: try again in {retry_after} seconds", "RATE_LIMITED")
        self.extensions = {"code": "RATE_LIMITED", "retryAfter": retry_after}


def bad_input(message: str) -> PublicError:
    return PublicError(message, "BAD_USER_INPUT")
