"""One error type for everything a client can cause, its JSON form and the documented error types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

# Every error_type a client can receive; the README's errors table explains each.
ErrorType = Literal[
    "bad_request",
    "draining",
    "empty",
    "internal",
    "invalid_json",
    "invalid_text",
    "invalid_vector",
    "method_not_allowed",
    "not_found",
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
