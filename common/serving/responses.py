"""JSON responses: every answer a function gives, success or error, is built here."""

from __future__ import annotations

import flask

from common.serving.errors import ApiError

JSON = "application/json"


def json_response(status: int, body: str | bytes) -> flask.Response:
    return flask.Response(body, status=status, mimetype=JSON)


def error_response(error: ApiError) -> flask.Response:
    response = json_response(error.status, error.body())
    response.headers.update(error.headers)
    return response
