"""JSON responses: every answer a function gives, success or error, is built here."""

from __future__ import annotations

import flask

from common.serving import openai_api
from common.serving.errors import ApiError

JSON = "application/json"


def json_response(status: int, body: str | bytes) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON)


def error_body(error: ApiError, path: str) -> str:
    """Our error envelope; OpenAI's on the OpenAI route, where its SDKs read it."""
    return openai_api.error_body(error) if path.rstrip("/") == openai_api.PATH else error.body()


def error_response(error: ApiError, path: str = "/") -> flask.Response:
    response = json_response(error.status, error_body(error, path))
    response.headers.update(error.headers)
    return response
