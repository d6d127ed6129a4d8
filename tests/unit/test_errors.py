"""Domain errors as stored with an idempotency key (domain/errors.py): a stored rejection comes back
as the same type, code, message and field, and a cool-down keeps its retry time."""

from __future__ import annotations

from domain.errors import (
    DomainError,
    ErrorCode,
    InsufficientPoints,
    TooManyAttempts,
    Validation,
)


def test_a_stored_rejection_comes_back_as_its_own_type_with_its_message_and_field() -> None:
    stored = InsufficientPoints("100 points requested, 40 available", ("points",)).to_dict()
    assert stored == {
        "code": "INSUFFICIENT_POINTS",
        "message": "100 points requested, 40 available",
        "field": ["points"],
    }
    error = DomainError.from_dict(stored)
    assert type(error) is InsufficientPoints
    assert (error.code, error.message, error.field) == (
        ErrorCode.INSUFFICIENT_POINTS,
        "100 points requested, 40 available",
        ("points",),
    )


def test_a_code_without_a_class_of_its_own_comes_back_as_a_domain_error_with_that_code() -> None:
    error = DomainError.from_dict({"code": "RISK_REVIEW", "message": "held for review", "field": []})
    assert type(error) is DomainError
    assert (error.code, error.message, error.field) == (ErrorCode.RISK_REVIEW, "held for review", None)


def test_a_stored_field_that_is_not_a_list_is_dropped() -> None:
    error = DomainError.from_dict({"code": "VALIDATION", "message": "bad", "field": "amount"})
    assert type(error) is Validation
    assert error.field is None
    assert DomainError.from_dict({"code": "VALIDATION", "message": "bad"}).field is None


def test_too_many_attempts_keeps_its_message_field_and_retry_time() -> None:
    error = TooManyAttempts("too many wrong codes; try again later", ("code",), retry_after=60)
    assert (error.code, error.message, error.field, error.retry_after) == (
        ErrorCode.TOO_MANY_ATTEMPTS,
        "too many wrong codes; try again later",
        ("code",),
        60,
    )
    assert str(error) == "too many wrong codes; try again later"
    assert error.replayable
