"""The OpenAPI 3.1 document of one function, generated from its pydantic request and response types."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from common.serving.errors import ErrorBody
from common.serving.limits import Limits

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    "400": "malformed JSON or an empty list or text",
    "401": "missing or wrong key",
    "404": "no such path",
    "405": "wrong method",
    "413": "body over the size limit",
    "415": "not application/json",
    "422": "valid JSON that breaks the schema or a limit",
    "429": "overloaded; retry after Retry-After seconds",
    "500": "unexpected; quote the request id",
    "503": "shutting down; retry",
}


class Status(BaseModel):
    status: Literal["ok", "ready", "loading", "draining"]


@functools.cache
def document(
    function: str, schema: Any, run: Callable[..., BaseModel], limits: Limits, default: str, models: tuple[str, ...]
) -> dict[str, Any]:
    """Paths: POST / (also /compute), GET /healthz, /readyz, /metrics, /openapi.json; every error as ErrorBody."""
    response_type = typing.get_type_hints(run)["return"]
    kinds = {"request": schema, "response": response_type, "error": ErrorBody, "status": Status}
    refs, definitions = TypeAdapter.json_schemas(
        [
            (key, "validation" if key == "request" else "serialization", TypeAdapter(kind))
            for key, kind in kinds.items()
        ],
        ref_template=REF,
    )
    ref = {key: schema for (key, _), schema in refs.items()}
    errors = {status: _json(description, ref["error"]) for status, description in ERROR_STATUSES.items()}
    call = {
        "summary": (run.__doc__ or function).strip().splitlines()[0],
        "description": (
            f"At most {limits.items} items and {limits.body_bytes} bytes per request. "
            f"Models (`model`): {', '.join(models)}; {default} when a request names none."
        ),
        "security": [{"key": []}, {"bearer": []}, {}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref["request"]}}},
        "responses": {"200": _json("the result", ref["response"]), **errors},
    }
    health = {"200": _json("serving", ref["status"]), "503": _json("not ready or draining", ref["status"])}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{function} function", "version": "1"},
        "paths": {
            "/": {"post": call},
            "/healthz": {"get": {"summary": "liveness", "responses": {"200": health["200"]}}},
            "/readyz": {"get": {"summary": "readiness", "responses": health}},
        },
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
