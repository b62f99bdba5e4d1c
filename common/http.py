"""Request handling shared by every function: routes, auth, limits, parsing, admission, errors, metrics, logs."""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import HTTPException

from common import metrics, openapi
from common.auth import authenticate
from common.errors import ApiError, ErrorType
from common.limits import Limits, limits_for
from common.models import UnknownModelError
from common.runtime import Runtime, get_runtime
from common.schemas import Request, Response

logger = logging.getLogger(__name__)
R = TypeVar("R")
JSON = "application/json"
MAX_ERRORS_SHOWN = 5


def handle(
    request: flask.Request,
    schema: Any,
    run: Callable[[R, Runtime], Response],
    runtime: Runtime | None = None,
) -> flask.Response:
    """Serve one request to a function: `run(parsed request, runtime)` returns the response model."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id") or request.headers.get("X-Vcap-Request-Id") or uuid.uuid4().hex
    function = run.__name__.removeprefix("run_")
    items: int | None = None
    error_type: ErrorType | None = None
    try:
        runtime = runtime or get_runtime()
        limits = limits_for(function, runtime.settings)
        response = _route(request, runtime, function, schema, run, limits)
        if response is None:
            _check_call(request, limits)
            # The slot covers parsing too: under overload a rejection must cost next to nothing.
            with runtime.admission.slot():
                parsed = _parse(request, schema, limits)
                items = _count(parsed, limits)
                response = _json(200, run(parsed, runtime).to_json())
    except ApiError as error:
        error_type = error.error_type
        response = _error(error)
    except UnknownModelError as error:
        error_type = "unknown_model"
        response = _error(ApiError(422, "unknown_model", str(error)))
    except Exception:
        logger.exception("unexpected error", extra={"request_id": request_id, "function": function})
        error_type = "internal"
        response = _error(ApiError(500, "internal", f"internal error; quote request id {request_id}"))
    response.headers["X-Request-Id"] = request_id
    seconds = time.perf_counter() - started
    metrics.observe(function, response.status_code, error_type, seconds)
    logger.info(
        "request",
        extra={
            "request_id": request_id,
            "function": function,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "error_type": error_type,
            "items": items,
            "ms": round(seconds * 1000, 1),
        },
    )
    return response


def _route(
    request: flask.Request, runtime: Runtime, function: str, schema: Any, run: Callable[..., BaseModel], limits: Limits
) -> flask.Response | None:
    """Answer the service routes (health open; the rest behind the key); None for a call of the function."""
    path = request.path.rstrip("/")
    if path in ("/healthz", "/readyz"):
        _allow_get(request)
        return _json(200, '{"status":"ok"}') if path == "/healthz" else _readiness(runtime)
    authenticate(request.headers.get("X-API-Key"), request.headers.get("Authorization"), runtime.settings.api_keys)
    if path == "/metrics":
        _allow_get(request)
        return flask.Response(metrics.render(runtime), mimetype=metrics.CONTENT_TYPE)
    if path == "/openapi.json":
        _allow_get(request)
        return _json(200, json.dumps(openapi.document(function, schema, run, limits)))
    return None


def _allow_get(request: flask.Request) -> None:
    if request.method not in ("GET", "HEAD"):
        message = f"{request.path} takes GET, not {request.method}"
        raise ApiError(405, "method_not_allowed", message, {"Allow": "GET, HEAD"})


def _readiness(runtime: Runtime) -> flask.Response:
    """503 until warm-up has succeeded, and again once draining has begun."""
    if runtime.admission.draining:
        return _json(503, '{"status":"draining"}')
    if runtime.models.ready:
        return _json(200, '{"status":"ready"}')
    runtime.models.start_warm_up()
    return _json(503, '{"status":"loading"}')


def _check_call(request: flask.Request, limits: Limits) -> None:
    """Path, method, media type and declared size of a call, all known before the body is read."""
    path = request.path.rstrip("/")
    # The existing Node app posts to a path ending in /compute.
    if path and not path.endswith("/compute"):
        raise ApiError(404, "not_found", f"no such path {request.path}; POST to /")
    if request.method != "POST":
        raise ApiError(405, "method_not_allowed", f"{request.path} takes POST, not {request.method}", {"Allow": "POST"})
    if request.mimetype != JSON:
        raise ApiError(
            415, "unsupported_media_type", f"expected Content-Type {JSON}, found {request.mimetype or 'none'}"
        )
    if (request.content_length or 0) > limits.body_bytes:
        raise _too_large(limits)


def _too_large(limits: Limits) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body must be at most {limits.body_bytes} bytes")


def _parse(request: flask.Request, schema: Any, limits: Limits) -> Any:
    # A body sent without a length is read no further than the limit.
    body = request.stream.read(limits.body_bytes + 1)
    if len(body) > limits.body_bytes:
        raise _too_large(limits)
    try:
        return _adapter(schema).validate_json(body)
    except ValidationError as error:
        raise _client_error(error) from None


def _count(parsed: Any, limits: Limits) -> int | None:
    if not isinstance(parsed, Request):
        return None
    items = parsed.item_count()
    if items > limits.items:
        raise ApiError(422, "too_many_items", f"at most {limits.items} items per request, found {items}")
    return items


@functools.cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


def _client_error(error: ValidationError) -> ApiError:
    """Map pydantic's errors to one ApiError; the client's input values are never echoed."""
    problems = error.errors(include_url=False, include_input=False)
    kinds = {problem["type"] for problem in problems}
    if "json_invalid" in kinds:
        reason = str(problems[0].get("ctx", {}).get("error", ""))
        # JSON's grammar allows an escaped lone surrogate; it is a bad text, not bad JSON.
        if "hex escape" in reason:
            return ApiError(422, "invalid_text", f"a string is not valid Unicode: {reason}")
        return ApiError(400, "invalid_json", f"the body is not valid JSON: {reason}")
    if "empty" in kinds:
        return ApiError(400, "empty", _describe(p for p in problems if p["type"] == "empty"))
    return ApiError(422, "validation_error", _describe(problems))


def _describe(problems: Iterable[ErrorDetails]) -> str:
    shown = [f"{'.'.join(map(str, p['loc'])) or 'body'}: {p['msg']}" for p in problems]
    more = f" (and {len(shown) - MAX_ERRORS_SHOWN} more)" if len(shown) > MAX_ERRORS_SHOWN else ""
    return "; ".join(shown[:MAX_ERRORS_SHOWN]) + more


FRAMEWORK_ERRORS: dict[int, ErrorType] = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def framework_error(error: HTTPException) -> flask.Response:
    """JSON instead of the framework's HTML page for the errors it raises itself (e.g. 404 /favicon.ico)."""
    status = error.code or 500
    error_type = FRAMEWORK_ERRORS.get(status, "bad_request" if status < 500 else "internal")
    return _error(ApiError(status, error_type, error.description or error_type))


def _json(status: int, body: str | bytes) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON)


def _error(error: ApiError) -> flask.Response:
    response = _json(error.status, error.body())
    response.headers.update(error.headers)
    return response
