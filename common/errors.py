"""One error type for everything a client can cause, and its JSON form."""

from __future__ import annotations


class ApiError(Exception):
    """An error with the HTTP status, a stable error_type for programs and a message for people."""

    def __init__(self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.message, "error_type": self.error_type}
