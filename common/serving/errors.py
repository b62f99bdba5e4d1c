"""Errors as clients see them: the documented error types, their JSON form, and the one table that maps
the domain's errors to status and error_type."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from common.cutoff import PastCutoffError
from common.models import UnknownModelError
from common.similarity import ReviewAboveThresholdError, TooManyPairsError
from common.vectors import InvalidVectorError

# Every error_type a client can receive; the README's errors table explains each.
ErrorType = Literal[
    "bad_request",
    "draining",
    "empty",
    "headers_too_large",
    "internal",
    "invalid_json",
    "invalid_text",
    "invalid_vector",
    "method_not_allowed",
    "not_found",
    "not_implemented",
    "overloaded",
    "payload_too_large",
    "too_many_items",
    "too_many_pairs",
    "unauthorized",
    "unknown_model",
    "unsupported_media_type",
    "validation_error",
]


class ErrorBody(BaseModel):
    error: str
    error_type: ErrorType


class ApiError(Exception):
    """An error with the HTTP status, a stable error_type for programs and a message for people."""

    def __init__(self, status: int, error_type: ErrorType, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = headers or {}

    def body(self) -> str:
        return ErrorBody(error=self.message, error_type=self.error_type).model_dump_json()


# Domain code raises its own errors; this is the one place they become HTTP answers. Their messages are
# written by our code (never a client's input), so they are shown as they are.
RETRY = {"Retry-After": "1"}
DOMAIN_ERRORS: dict[type[Exception], tuple[int, ErrorType, dict[str, str]]] = {
    UnknownModelError: (422, "unknown_model", {}),
    TooManyPairsError: (422, "too_many_pairs", {}),
    InvalidVectorError: (422, "invalid_vector", {}),
    ReviewAboveThresholdError: (422, "validation_error", {}),
    PastCutoffError: (503, "draining", RETRY),
}


def from_domain(error: Exception) -> ApiError | None:
    """The client's answer for a domain error; None for an error that is ours (a 500)."""
    for kind, (status, error_type, headers) in DOMAIN_ERRORS.items():
        if isinstance(error, kind):
            return ApiError(status, error_type, str(error), dict(headers))
    return None
