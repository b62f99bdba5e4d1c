"""The service routes beside each function's call: health and readiness (open); metrics, info and OpenAPI
(keyed, by the screen before they get here)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import flask
from pydantic import BaseModel

from common import __version__
from common.engines.artifact import peek
from common.runtime import Runtime
from common.serving import metrics, openapi
from common.serving.errors import ApiError
from common.serving.limits import MAX_TEXT_CHARS, Limits
from common.serving.responses import json_response


def service_route(
    request: flask.Request, runtime: Runtime, function: str, schema: Any, run: Callable[..., BaseModel], limits: Limits
) -> flask.Response | None:
    """Answer the service routes (health open; the rest behind the key); None for a call of the function."""
    path = request.path.rstrip("/")
    if path in ("/healthz", "/readyz"):
        _allow_get(request)
        return json_response(200, '{"status":"ok"}') if path == "/healthz" else _readiness(runtime)
    if path == "/metrics":
        _allow_get(request)
        return flask.Response(metrics.render(runtime), mimetype=metrics.CONTENT_TYPE)
    if path == "/info":
        _allow_get(request)
        return json_response(200, json.dumps(info(runtime, function, limits)))
    if path == "/openapi.json":
        _allow_get(request)
        return json_response(
            200,
            json.dumps(
                openapi.document(
                    function, schema, run, limits, runtime.settings.model, tuple(runtime.settings.model_dirs)
                )
            ),
        )
    return None


def info(runtime: Runtime, function: str, limits: Limits) -> dict[str, Any]:
    """What a client configures itself from: models, their sizes and engines, limits, thresholds, version."""
    settings = runtime.settings
    loaded = {encoder.model_id: encoder for encoder in runtime.models.loaded()}
    models = []
    for name, folder in settings.model_dirs.items():
        record, encoder = peek(folder), loaded.get(name)
        dimensions = encoder.dimensions if encoder else record.get("dimensions")
        model = {"id": name, "default": name == settings.model, "loaded": encoder is not None, "dimensions": dimensions}
        model["max_tokens"] = record.get("max_seq_length")
        model["engine"] = encoder.engine.description if encoder else f"{settings.backend} (not loaded yet)"
        model["thresholds"] = dataclasses.asdict(settings.thresholds(name))
        models.append(model)
    return {
        "service": "similarity-functions",
        "version": __version__,
        "function": function,
        "models": models,
        "limits": {**dataclasses.asdict(limits), "text_chars": MAX_TEXT_CHARS},
        "encoding_formats": ["float", "base64"],
        "thresholds": dataclasses.asdict(settings.thresholds(None)),  # the default model's
    }


def _allow_get(request: flask.Request) -> None:
    if request.method not in ("GET", "HEAD"):
        message = f"{request.path} takes GET, not {request.method}"
        raise ApiError(405, "method_not_allowed", message, {"Allow": "GET, HEAD"})


def _readiness(runtime: Runtime) -> flask.Response:
    """503 until warm-up has succeeded, and again once draining has begun; it starts nothing."""
    if runtime.admission.draining:
        return json_response(503, '{"status":"draining"}')
    if runtime.models.ready:
        return json_response(200, '{"status":"ready"}')
    return json_response(503, '{"status":"loading"}')
