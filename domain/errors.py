"""Domain errors: raised inside use cases, turned into typed `UserError`s at the API edge."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    MEMBER_LOCKED = "MEMBER_LOCKED"
    OFFER_BUDGET_EXHAUSTED = "OFFER_BUDGET_EXHAUSTED"
    REWARD_OUT_OF_STOCK = "REWARD_OUT_OF_STOCK"
    REWARD_INACTIVE = "REWARD_INACTIVE"
    LIMIT_REACHED = "LIMIT_REACHED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ALREADY_FINALIZED = "ALREADY_FINALIZED"
    RISK_REVIEW = "RISK_REVIEW"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    EXPIRED = "EXPIRED"

    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    UNAVAILABLE = "UNAVAILABLE"


class DomainError(Exception):
    """A business rule said no. Carries a stable code and the input field it concerns."""

    code: ErrorCode = ErrorCode.VALIDATION
    # A code that matched nothing the caller may use: the API counts it against its guessing limits.
    wrong_code: bool = False

    def __init__(self, message: str, field: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def replayable(self) -> bool:
        """Business rejections are stored under the idempotency key and replayed; bad input is not,
        nor is a failure to reach the database (nothing about the request was decided)."""
        return self.code not in _NOT_REPLAYABLE

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code.value, "message": self.message, "field": list(self.field or ())}

    @staticmethod
    def from_dict(data: dict[str, object]) -> DomainError:
        code = ErrorCode(str(data["code"]))
        error_type = _BY_CODE.get(code, DomainError)
        raw_field = data.get("field") or []
        field = tuple(str(part) for part in raw_field) if isinstance(raw_field, list) else None
        error = error_type(str(data["message"]), field or None)
        error.code = code
        return error


class Validation(DomainError):
    code = ErrorCode.VALIDATION


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS


class InsufficientPoints(DomainError):
    code = ErrorCode.INSUFFICIENT_POINTS


class MemberLocked(DomainError):
    code = ErrorCode.MEMBER_LOCKED


class RewardOutOfStock(DomainError):
    code = ErrorCode.REWARD_OUT_OF_STOCK


class RewardInactive(DomainError):
    code = ErrorCode.REWARD_INACTIVE


class OfferBudgetExhausted(DomainError):
    code = ErrorCode.OFFER_BUDGET_EXHAUSTED


class LimitReached(DomainError):
    code = ErrorCode.LIMIT_REACHED


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class AlreadyFinalized(DomainError):
    code = ErrorCode.ALREADY_FINALIZED


class Expired(DomainError):
    """A voucher past its date: it can no longer be used."""

    code = ErrorCode.EXPIRED


class UnknownCode(NotFound):
    """No coupon or red packet has this code: a wrong guess, as far as the caller can tell."""

    wrong_code = True


class InvalidCode(Validation):
    """A one-time code that is malformed, unknown, used or expired (the caller is not told which)."""

    wrong_code = True


class NotPresented(NotFound):
    """A merchant named a member that did not present itself to it (no valid code, no link). The same
    refusal whether the member exists, is locked, or not: the answer is no oracle."""

    wrong_code = True

    def __init__(self, field: str) -> None:
        super().__init__(
            "no member presented itself with this: use the code from the member's wallet or the"
            " reference its link to this merchant gave",
            (field,),
        )


class TooManyAttempts(DomainError):
    """The caller gave too many wrong codes of this kind lately; it may try again after a cool-down."""

    code = ErrorCode.TOO_MANY_ATTEMPTS

    def __init__(self, message: str, field: tuple[str, ...] | None, retry_after: int) -> None:
        super().__init__(message, field)
        self.retry_after = retry_after


class OutcomeUnknown(DomainError):
    """The connection died during COMMIT: the change may or may not have been made. A retry with the
    same idempotency key is safe: it replays the change if it was made, or makes it."""

    code = ErrorCode.OUTCOME_UNKNOWN


class Unavailable(DomainError):
    """The database could not be reached (after retries): nothing changed; retry later."""

    code = ErrorCode.UNAVAILABLE


_NOT_REPLAYABLE = frozenset({ErrorCode.VALIDATION, ErrorCode.OUTCOME_UNKNOWN, ErrorCode.UNAVAILABLE})

_BY_CODE: dict[ErrorCode, type[DomainError]] = {
    cls.code: cls
    for cls in (
        Validation,
        NotFound,
        Forbidden,
        AlreadyExists,
        InsufficientPoints,
        MemberLocked,
        RewardOutOfStock,
        RewardInactive,
        OfferBudgetExhausted,
        LimitReached,
        IdempotencyKeyReused,
        AlreadyFinalized,
    )
}
