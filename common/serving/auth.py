"""Shared-key authentication between apps: X-API-Key or Authorization: Bearer, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from common.serving.errors import ApiError


def authenticate(api_key: str | None, authorization: str | None, keys: Sequence[str]) -> None:
    """Raise a 401 ApiError unless no keys are configured or the request carries one of them."""
    if not keys:
        return
    scheme, _, token = (authorization or "").partition(" ")
    offered = (api_key or (token.strip() if scheme.lower() == "bearer" else "")).encode()
    # Every key is compared, so the time taken says nothing about which key came close.
    matches = [hmac.compare_digest(offered, key.encode()) for key in keys]
    if not offered or not any(matches):
        raise ApiError(
            401,
            "unauthorized",
            "missing or wrong key: send it as X-API-Key or Authorization: Bearer",
            {"WWW-Authenticate": "Bearer"},
        )
