"""The request pipeline every function call goes through: screen, admit, parse, run, answer, log."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import flask
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from common.runtime import Runtime, get_runtime
from common.serving import metrics, routes
from common.serving.errors import ApiError, ErrorType, from_domain
from common.serving.limits import SMALL_BODY_BYTES, Limits, json_values_at_most, limits_for
from common.serving.responses import error_response, json_response
from common.serving.schemas import Request, Response
from common.serving.screen import head_of, request_id, screen, too_large

RUNTIME_KEY = "simfn.runtime"  # where create_app keeps an injected runtime

logger = logging.getLogger(__name__)
R = TypeVar("R")
MAX_ERRORS_SHOWN = 5
SHOWN_KEY_CHARS = 32


def handle(
    request: flask.Request,
    function: str,
    schema: Any,
    run: Callable[[R, Runtime], Response],
    runtime: Runtime | None = None,
) -> flask.Response:
    """Serve one request to `function`: `run(parsed request, runtime)` returns the response model.

    The runtime is the one given, else the app's (create_app(target, runtime=...)), else the process's.
    """
    started = time.perf_counter()
    rid = request_id(request.headers.get("X-Request-Id"), request.headers.get("X-Vcap-Request-Id"))
    items: int | None = None
    model: str | None = None
    error_type: ErrorType | None = None
    try:
        runtime = runtime or flask.current_app.config.get(RUNTIME_KEY) or get_runtime()
        limits = limits_for(function, runtime.settings)
        head = head_of(request)
        screen(head, function, limits, runtime.settings.api_keys)
        response = routes.service_route(request, runtime, function, schema, run, limits)
        if response is None:
            small = head.content_length is not None and head.content_length <= SMALL_BODY_BYTES
            # The slot covers parsing too: under overload a rejection must cost next to nothing.
            with runtime.admission.slot(small):
                parsed = _parse(request, schema, limits)
                model = getattr(parsed, "model", None) or runtime.settings.model
                items = _count(parsed, limits, lambda: runtime.models.get(model).dimensions)
                response = json_response(200, run(parsed, runtime).to_json())
    except Exception as error:
        answer = error if isinstance(error, ApiError) else from_domain(error)
        if answer is None:
            logger.exception("unexpected error", extra={"request_id": rid, "function": function})
            answer = ApiError(500, "internal", f"internal error; quote request id {rid}")
        error_type = answer.error_type
        response = error_response(answer, request.path)
    response.headers["X-Request-Id"] = rid
    seconds = time.perf_counter() - started
    metrics.observe(function, response.status_code, error_type, seconds)
    logger.info(
        "request",
        extra={
            "request_id": rid,
            "function": function,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "error_type": error_type,
            "items": items,
            "model": model,
            "ms": round(seconds * 1000, 1),
        },
    )
    return response


def _parse(request: flask.Request, schema: Any, limits: Limits) -> Any:
    # A body sent without a length is read no further than the limit.
    body = request.stream.read(limits.body_bytes + 1)
    if len(body) > limits.body_bytes:
        raise too_large(limits)
    values = json_values_at_most(body)
    if values > limits.json_values:
        message = (
            f"at most {limits.json_values} JSON values (numbers, strings, lists) per request; found up to {values}"
        )
        raise ApiError(413, "payload_too_large", message)
    try:
        return _adapter(schema).validate_json(body)
    except ValidationError as error:
        raise _client_error(error) from None


def _count(parsed: Any, limits: Limits, dimensions: Callable[[], int]) -> int | None:
    if not isinstance(parsed, Request):
        return None
    items = parsed.item_count(dimensions())
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


def _location(loc: tuple[int | str, ...]) -> str:
    """Where a problem is; a client's own key is cut short, never echoed whole."""
    parts = [p if isinstance(p, int) or len(p) <= SHOWN_KEY_CHARS else p[:SHOWN_KEY_CHARS] + "…" for p in loc]
    return ".".join(map(str, parts)) or "body"


def _describe(problems: Iterable[ErrorDetails]) -> str:
    shown = [f"{_location(p['loc'])}: {p['msg']}" for p in problems]
    more = f" (and {len(shown) - MAX_ERRORS_SHOWN} more)" if len(shown) > MAX_ERRORS_SHOWN else ""
    return "; ".join(shown[:MAX_ERRORS_SHOWN]) + more
