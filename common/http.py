"""Request handling shared by every function: routes, parsing, validation, running, errors, one log line."""

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

from common.errors import ApiError
from common.models import UnknownModelError
from common.runtime import Runtime, get_runtime
from common.schemas import Request

logger = logging.getLogger(__name__)
R = TypeVar("R")
JSON = "application/json"
HEALTH_PATHS = ("/healthz", "/readyz")
MAX_ERRORS_SHOWN = 5


def handle(
    request: flask.Request,
    schema: Any,
    run: Callable[[R, Runtime], BaseModel],
    runtime: Runtime | None = None,
) -> flask.Response:
    """Serve one request to a function: `run(parsed request, runtime)` returns the response model."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id") or request.headers.get("X-Vcap-Request-Id") or uuid.uuid4().hex
    function = run.__name__.removeprefix("run_")
    items: int | None = None
    error_type: str | None = None
    try:
        runtime = runtime or get_runtime()
        health = _health(request, runtime)
        if health is not None:
            response = health
        else:
            parsed = _parse(request, schema)
            items = parsed.item_count() if isinstance(parsed, Request) else None
            response = _json(200, run(parsed, runtime).model_dump_json(exclude_none=True))
    except ApiError as error:
        error_type = error.error_type
        response = _error(error)
    except UnknownModelError as error:
        error_type = "unknown_model"
        response = _error(ApiError(422, error_type, str(error)))
    except Exception:
        logger.exception("unexpected error", extra={"request_id": request_id, "function": function})
        error_type = "internal"
        response = _error(ApiError(500, error_type, f"internal error; quote request id {request_id}"))
    response.headers["X-Request-Id"] = request_id
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
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def _health(request: flask.Request, runtime: Runtime) -> flask.Response | None:
    """/healthz answers at once without the model; /readyz is 503 until warm-up has succeeded."""
    path = request.path.rstrip("/")
    if path not in HEALTH_PATHS:
        return None
    if request.method not in ("GET", "HEAD"):
        raise ApiError(405, "method_not_allowed", f"{path} takes GET, not {request.method}", {"Allow": "GET, HEAD"})
    if path == "/healthz":
        return _json(200, '{"status":"ok"}')
    if runtime.models.ready:
        return _json(200, '{"status":"ready"}')
    runtime.models.start_warm_up()
    return _json(503, '{"status":"loading"}')


def _parse(request: flask.Request, schema: Any) -> Any:
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
    try:
        return _adapter(schema).validate_json(request.get_data(cache=False))
    except ValidationError as error:
        raise _client_error(error) from None


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


def framework_error(error: HTTPException) -> flask.Response:
    """JSON instead of the framework's HTML page for the errors it raises itself (e.g. 404 /favicon.ico)."""
    status = error.code or 500
    error_type = "not_found" if status == 404 else (error.name or "error").lower().replace(" ", "_")
    return _error(ApiError(status, error_type, error.description or error_type))


def _json(status: int, body: str) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON)


def _error(error: ApiError) -> flask.Response:
    response = _json(error.status, json.dumps(error.body()))
    response.headers.update(error.headers)
    return response
