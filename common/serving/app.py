"""A function's WSGI app, built exactly as functions-framework builds it, with the runtime it serves from."""

from __future__ import annotations

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from common.config import PROJECT_ROOT
from common.runtime import Runtime
from common.serving.errors import ApiError, ErrorType
from common.serving.pipeline import RUNTIME_KEY
from common.serving.responses import error_response

TARGETS = ("embed", "compare", "cluster")
FRAMEWORK_ERRORS: dict[int, ErrorType] = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def create_app(target: str, runtime: Runtime | None = None) -> flask.Flask:
    """The function's app; it serves from `runtime` when given (tests), else from the process's runtime."""
    if target not in TARGETS:
        raise ValueError(f"unknown function {target!r}; expected one of {', '.join(TARGETS)}")
    source = str(PROJECT_ROOT / "functions" / f"{target}.py")
    app: flask.Flask = functions_framework.create_app(target, source)  # type: ignore[no-untyped-call]
    app.register_error_handler(HTTPException, framework_error)
    # functions-framework reads every body after the response, a refused one too; under waitress the body
    # is already received, and the app reads what it needs within the limit.
    app.after_request_funcs[None].remove(functions_framework.read_request)
    if runtime is not None:
        app.config[RUNTIME_KEY] = runtime
    return app


def framework_error(error: HTTPException) -> flask.Response:
    """JSON instead of the framework's HTML page for the errors it raises itself (e.g. 404 /favicon.ico)."""
    status = error.code or 500
    error_type = FRAMEWORK_ERRORS.get(status, "bad_request" if status < 500 else "internal")
    return error_response(ApiError(status, error_type, error.description or error_type))
