"""What is decided from the request line and headers alone, before a byte of the body is read.

The same screen runs twice: in the server as soon as the headers are in (so a refused body is never stored
or parsed), and in the pipeline (so the app answers alike under any WSGI server and in tests).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import flask

from common.serving import openai_api
from common.serving.auth import authenticate
from common.serving.errors import ApiError
from common.serving.limits import Limits
from common.serving.responses import JSON

HEALTH_PATHS = ("/healthz", "/readyz")
KEYED_SERVICE_PATHS = ("/metrics", "/openapi.json", "/info")
# Paths a function answers besides its own call at / (and the Node app's .../compute).
FUNCTION_PATHS = {"embed": (openai_api.PATH,)}
SHOWN_PATH_CHARS = 64
# A client's request id is echoed and logged only if it is short and plain; otherwise it gets a new one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Head:
    method: str
    path: str
    media_type: str  # lower case, without parameters; "" when absent
    content_length: int | None
    api_key: str | None
    authorization: str | None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def head_of(request: flask.Request) -> Head:
    return Head(
        request.method,
        request.path,
        request.mimetype,
        request.content_length,
        request.headers.get("X-API-Key"),
        request.headers.get("Authorization"),
    )


def screen(head: Head, function: str, limits: Limits, keys: Sequence[str]) -> None:
    """Raise the ApiError a request gets from its head alone: key, path, method, media type, declared size."""
    path = head.path.rstrip("/")
    if path in HEALTH_PATHS:
        return
    authenticate(head.api_key, head.authorization, keys)
    if path in KEYED_SERVICE_PATHS:
        return
    shown = head.path if len(head.path) <= SHOWN_PATH_CHARS else head.path[:SHOWN_PATH_CHARS] + "…"
    # The existing Node app posts to a path ending in /compute.
    if path and not path.endswith("/compute") and path not in FUNCTION_PATHS.get(function, ()):
        raise ApiError(404, "not_found", f"no such path {shown}; POST to /")
    if head.method != "POST":
        raise ApiError(405, "method_not_allowed", f"{shown} takes POST, not {head.method}", {"Allow": "POST"})
    if head.media_type != JSON:
        raise ApiError(
            415, "unsupported_media_type", f"expected Content-Type {JSON}, found {head.media_type or 'none'}"
        )
    if (head.content_length or 0) > limits.body_bytes:
        raise too_large(limits)


def too_large(limits: Limits) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body must be at most {limits.body_bytes} bytes")


def request_id(*offered: str | None) -> str:
    """The first plain request id offered (X-Request-Id, X-Vcap-Request-Id), else a new one."""
    for candidate in offered:
        if candidate and REQUEST_ID.fullmatch(candidate):
            return candidate
    return uuid.uuid4().hex
