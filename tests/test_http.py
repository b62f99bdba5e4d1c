"""Request handling with a fake engine: routes, errors, request ids and logs (the real model is in tests/functions)."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import flask
import pytest
from flask.testing import FlaskClient
from pydantic import Field

from common.http import handle
from common.runtime import Runtime
from common.schemas import NonEmpty, Request, Response, Text
from tests.fakes import FakeEngine, fake_runtime

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
SENTINEL = "SENTINEL-7f3a-do-not-log"


class EchoRequest(Request):
    texts: Annotated[list[Text], Field(max_length=3), NonEmpty]

    def item_count(self) -> int:
        return len(self.texts)


class EchoResponse(Response):
    count: int


def run_echo(request: EchoRequest, runtime: Runtime) -> EchoResponse:
    if request.texts[0] == "boom":
        raise RuntimeError(f"failed on {SENTINEL} at /secret/path.py")
    return EchoResponse(count=len(runtime.models.get().encode(request.texts)))


def _client(runtime: Runtime) -> FlaskClient:
    app = flask.Flask("test")

    def view(path: str) -> flask.Response:
        return handle(flask.request, EchoRequest, run_echo, runtime)

    app.add_url_rule("/", "root", view, defaults={"path": ""}, methods=METHODS)
    app.add_url_rule("/<path:path>", "path", view, methods=METHODS)
    return app.test_client()


@pytest.fixture
def client() -> FlaskClient:
    return _client(fake_runtime())


def test_handle_runs_a_valid_request(client: FlaskClient) -> None:
    response = client.post("/", json={"texts": ["a", "b"]})
    assert (response.status_code, response.json) == (200, {"count": 2}), response.text


def test_handle_accepts_the_legacy_compute_path(client: FlaskClient) -> None:
    response = client.post("/api/similarity/compute", json={"texts": ["a"]})
    assert response.status_code == 200, response.text


def test_healthz_answers_without_touching_the_model() -> None:
    engine = FakeEngine()
    response = _client(fake_runtime(engine)).get("/healthz")
    assert (response.status_code, response.json, engine.batches) == (200, {"status": "ok"}, [])


def test_readyz_is_503_until_warm_up_has_run() -> None:
    runtime = fake_runtime()
    client = _client(runtime)
    assert client.get("/readyz").status_code == 503
    runtime.models.warm_up()
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (200, {"status": "ready"})


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error_type"),
    [
        ("POST", "/", b'{"texts": ["a",', {}, 400, "invalid_json"),
        ("POST", "/", b"[" * 5000, {}, 400, "invalid_json"),
        ("POST", "/", b'{"texts": []}', {}, 400, "empty"),
        ("POST", "/", b'{"texts": ["  "]}', {}, 400, "empty"),
        ("POST", "/", b'{"texts": ["\\ud800"]}', {}, 422, "invalid_text"),
        ("POST", "/", b'{"texts": ["a"], "extra": 1}', {}, 422, "validation_error"),
        ("POST", "/", b'{"texts": [1]}', {}, 422, "validation_error"),
        ("POST", "/", b'{"texts": "a"}', {}, 422, "validation_error"),
        ("POST", "/", b'{"texts": ["a", "b", "c", "d"]}', {}, 422, "validation_error"),
        ("POST", "/", b'{"texts": ["a"]}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        ("GET", "/", b"", {}, 405, "method_not_allowed"),
        ("PUT", "/", b'{"texts": ["a"]}', {}, 405, "method_not_allowed"),
        ("POST", "/healthz", b"", {}, 405, "method_not_allowed"),
        ("POST", "/elsewhere", b'{"texts": ["a"]}', {}, 404, "not_found"),
    ],
)
def test_handle_maps_client_errors_to_json(
    client: FlaskClient, method: str, path: str, body: bytes, headers: dict[str, str], status: int, error_type: str
) -> None:
    headers = {"Content-Type": "application/json", **headers}
    response = client.open(path, method=method, data=body, headers=headers)
    assert (response.status_code, response.mimetype) == (status, "application/json"), response.text
    assert response.json is not None and set(response.json) == {"error", "error_type"}, response.text
    assert response.json["error_type"] == error_type, response.text


def test_handle_names_the_list_limit_in_the_message(client: FlaskClient) -> None:
    response = client.post("/", json={"texts": ["a", "b", "c", "d"]})
    assert "at most 3" in response.text, response.text


def test_handle_says_which_method_is_allowed(client: FlaskClient) -> None:
    assert client.get("/").headers["Allow"] == "POST"


def test_handle_hides_unexpected_errors_behind_a_request_id(client: FlaskClient) -> None:
    response = client.post("/", json={"texts": ["boom"]}, headers={"X-Request-Id": "req-123"})
    assert (response.status_code, response.json) == (
        500,
        {"error": "internal error; quote request id req-123", "error_type": "internal"},
    ), response.text


def test_handle_echoes_or_makes_a_request_id(client: FlaskClient) -> None:
    assert client.post("/", json={"texts": ["a"]}, headers={"X-Request-Id": "abc"}).headers["X-Request-Id"] == "abc"
    assert client.get("/healthz", headers={"X-Vcap-Request-Id": "vcap-1"}).headers["X-Request-Id"] == "vcap-1"
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 32


def test_handle_logs_one_line_per_request_without_the_text(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="common.http")
    client.post("/", json={"texts": [SENTINEL, "b"]}, headers={"X-Request-Id": "r1"})
    client.post("/", json={"texts": [SENTINEL, 5]}, headers={"X-Request-Id": "r2"})
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    assert [(r.request_id, r.status, r.items) for r in lines] == [("r1", 200, 2), ("r2", 422, None)]  # type: ignore[attr-defined]
    assert SENTINEL not in caplog.text


def test_handle_logs_the_traceback_of_an_unexpected_error(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.post("/", json={"texts": ["boom"]})
    assert any(record.exc_info for record in caplog.records), "no traceback logged"


def test_handle_error_body_is_plain_json(client: FlaskClient) -> None:
    response = client.post("/", data=b"{", headers={"Content-Type": "application/json"})
    assert json.loads(response.data)["error"].startswith("the body is not valid JSON")
