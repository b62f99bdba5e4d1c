"""Request handling with a fake engine: routes, errors, request ids and logs (the real model is in tests/functions)."""

from __future__ import annotations

import io
import json
import logging
from typing import Annotated

import flask
import pytest
from flask.testing import FlaskClient

from common.logs import JsonFormatter
from common.runtime import Runtime
from common.serving.limits import SMALL_BODY_BYTES
from common.serving.pipeline import handle
from common.serving.schemas import NonEmpty, Request, Response, Text
from tests.fakes import FakeEngine, fake_runtime

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
SENTINEL = "SENTINEL-7f3a-do-not-log"


class EchoRequest(Request):
    texts: Annotated[list[Text], NonEmpty]

    def item_count(self, dimensions: int) -> int:
        return len(self.texts)


class EchoResponse(Response):
    count: int


def run_echo(request: EchoRequest, runtime: Runtime) -> EchoResponse:
    """Count the texts."""
    if request.texts[0] == "boom":
        raise RuntimeError(f"failed on {request.texts[-1]} at /secret/path.py")
    return EchoResponse(count=len(runtime.models.get().encode(request.texts)))


def _client(runtime: Runtime) -> FlaskClient:
    app = flask.Flask("test")

    def view(path: str) -> flask.Response:
        return handle(flask.request, "echo", EchoRequest, run_echo, runtime)

    app.add_url_rule("/", "root", view, defaults={"path": ""}, methods=METHODS)
    app.add_url_rule("/<path:path>", "path", view, methods=METHODS)
    return app.test_client()


@pytest.fixture
def client() -> FlaskClient:
    return _client(fake_runtime(max_items=3, max_body_bytes=1000))


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
        ("POST", "/", b"[" * 900, {}, 400, "invalid_json"),
        ("POST", "/", b'{"texts": []}', {}, 400, "empty"),
        ("POST", "/", b'{"texts": ["  "]}', {}, 400, "empty"),
        ("POST", "/", b'{"texts": ["\\ud800"]}', {}, 422, "invalid_text"),
        ("POST", "/", b'{"texts": ["a"], "extra": 1}', {}, 422, "validation_error"),
        ("POST", "/", b'{"texts": [1]}', {}, 422, "validation_error"),
        ("POST", "/", b'{"texts": "a"}', {}, 422, "validation_error"),
        ("POST", "/", b"[" * 450 + b"]" * 450, {}, 400, "invalid_json"),
        ("POST", "/", b'{"texts": ["a", "b", "c", "d"]}', {}, 422, "too_many_items"),
        ("POST", "/", b'{"texts": ["%s"]}' % (b"x" * 1000), {}, 413, "payload_too_large"),
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


def test_handle_names_the_limits_in_the_message(client: FlaskClient) -> None:
    assert "at most 3 items" in client.post("/", json={"texts": ["a", "b", "c", "d"]}).text
    assert "at most 1000 bytes" in client.post("/", json={"texts": ["x" * 1000]}).text


def test_handle_stops_reading_a_body_without_length_at_the_limit(client: FlaskClient) -> None:
    body = io.BytesIO(b'{"texts": ["%s"]}' % (b"x" * 5000))
    environ = {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "", "wsgi.input_terminated": True}
    response = client.post("/", input_stream=body, environ_overrides=environ)
    assert (response.status_code, body.tell()) == (413, 1001), response.text


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
    caplog.set_level(logging.INFO)
    client.post("/", json={"texts": [SENTINEL, "b"]}, headers={"X-Request-Id": "r1"})
    client.post("/", json={"texts": [SENTINEL, 5]}, headers={"X-Request-Id": "r2"})
    client.post("/", json={"texts": ["boom", SENTINEL]}, headers={"X-Request-Id": "r3"})
    client.post("/", json={SENTINEL: 1}, headers={"X-Request-Id": "r4"})
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    assert [(r.request_id, r.status, r.items) for r in lines] == [  # type: ignore[attr-defined]
        ("r1", 200, 2),
        ("r2", 422, None),
        ("r3", 500, 2),
        ("r4", 422, None),
    ]
    output = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert SENTINEL not in output, [line for line in output.splitlines() if SENTINEL in line]


def test_handle_logs_the_traceback_of_an_unexpected_error(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.post("/", json={"texts": ["boom"]})
    assert any(record.exc_info for record in caplog.records), "no traceback logged"


def test_handle_error_body_is_plain_json(client: FlaskClient) -> None:
    response = client.post("/", data=b"{", headers={"Content-Type": "application/json"})
    assert json.loads(response.data)["error"].startswith("the body is not valid JSON")


KEYS = ("current-key", "previous-key")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-API-Key": "wrong"}, 401),
        ({"Authorization": "Basic current-key"}, 401),
        ({"X-API-Key": "current-key"}, 200),
        ({"X-API-Key": "previous-key"}, 200),
        ({"Authorization": "Bearer current-key"}, 200),
    ],
)
def test_handle_requires_a_configured_key(headers: dict[str, str], status: int) -> None:
    response = _client(fake_runtime(api_keys=KEYS)).post("/", json={"texts": ["a"]}, headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/readyz", 503), ("/metrics", 401)])
def test_handle_keeps_health_open_when_a_key_is_required(path: str, status: int) -> None:
    assert _client(fake_runtime(api_keys=KEYS)).get(path).status_code == status


def test_handle_answers_429_when_every_slot_stays_busy() -> None:
    runtime = fake_runtime(max_inflight=1, small_inflight=0, threads=3, queue_seconds=0.05)
    with runtime.admission.slot():
        response = _client(runtime).post("/", json={"texts": ["a"]})
    assert (response.status_code, response.headers.get("Retry-After")) == (429, "1"), response.text
    assert response.json == {
        "error": "all 1 inference slots are busy; retry after a second",
        "error_type": "overloaded",
    }


def test_handle_gives_a_small_request_its_own_slot_when_the_inference_slots_are_busy() -> None:
    runtime = fake_runtime(max_inflight=1, small_inflight=1, threads=4, queue_seconds=0.05)
    client = _client(runtime)
    with runtime.admission.slot():
        small = client.post("/", json={"texts": ["a"]})
        large = client.post("/", json={"texts": ["a" * SMALL_BODY_BYTES]})
    assert (small.status_code, large.status_code) == (200, 429), (small.text, large.text)


def test_handle_answers_503_with_retry_after_once_draining() -> None:
    runtime = fake_runtime()
    runtime.models.warm_up()
    runtime.admission.drain()
    client = _client(runtime)
    response = client.post("/", json={"texts": ["a"]})
    # The connection is closed by the wire (tests/test_server.py): an app may not send hop-by-hop headers.
    assert (response.status_code, response.headers.get("Retry-After")) == (503, "1"), response.text
    assert "Connection" not in response.headers
    assert client.get("/readyz").json == {"status": "draining"}


def test_handle_serves_prometheus_metrics(client: FlaskClient) -> None:
    client.post("/", json={"texts": ["a"]})
    client.post("/", json={"texts": ["a", "b"]})
    text = client.get("/metrics").text
    assert 'simfn_requests_total{error_type="",function="echo",status="200"}' in text, text
    assert 'simfn_text_cache_hits_total{model="all-MiniLM-L6-v2"} 1.0' in text, text
    assert 'simfn_text_cache_misses_total{model="all-MiniLM-L6-v2"} 2.0' in text, text
    for name in (
        "simfn_request_duration_seconds_bucket",
        "simfn_in_flight",
        "simfn_queued",
        "simfn_model_load_seconds",
    ):
        assert name in text, text


def test_handle_serves_the_openapi_document(client: FlaskClient) -> None:
    document = client.get("/openapi.json").json
    assert document is not None and document["paths"]["/"]["post"]["summary"] == "Count the texts."
