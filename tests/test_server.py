"""The production server, booted as a real process the way Cloud Foundry starts it."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from common.config import Settings
from common.serving.app import create_app
from tests.servers import free_port, get, serving, start, wait_for


def _post(port: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """POST over a fresh connection; connection errors propagate (a reset must fail the test)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _texts(tag: str, count: int) -> bytes:
    texts = [f"goal {tag} {i}: improve attendance through weekly outreach" for i in range(count)]
    return json.dumps({"texts": texts}).encode()


@pytest.mark.parametrize("path", ["/favicon.ico", "/robots.txt"])
def test_create_app_answers_the_frameworks_own_routes_in_json(path: str) -> None:
    response = create_app("embed").test_client().get(path)
    assert (response.status_code, response.json) == (404, {"error": "Not Found", "error_type": "not_found"})


def test_create_app_refuses_unknown_functions() -> None:
    with pytest.raises(ValueError, match="unknown function 'nope'"):
        create_app("nope")


@pytest.mark.slow
def test_server_answers_health_at_once_then_becomes_ready_and_serves() -> None:
    port = free_port()
    process = start("embed", port)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 200, seconds=20)
        readiness = get(f"http://127.0.0.1:{port}/readyz")
        assert readiness in ((200, {"status": "ready"}), (503, {"status": "loading"})), readiness
        wait_for(f"http://127.0.0.1:{port}/readyz", 200, seconds=20)
        status, body = get(f"http://127.0.0.1:{port}", {"texts": ["Improve family engagement"]})
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert status == 200 and isinstance(body, dict) and len(body["embeddings"][0]) == 384, body


def _answer(status: int, headers: dict[str, str], body: bytes) -> str:
    """What kind of complete answer this is; a reset or a cut body raised before getting here."""
    parsed = json.loads(body)
    if status == 200:
        return "200"
    assert isinstance(parsed, dict) and headers.get("Retry-After") == "1", (status, headers, body[:200])
    return f"{status} {parsed['error_type']}"


@pytest.mark.slow
def test_server_drains_on_sigterm_answering_every_request_in_time() -> None:
    with serving("embed") as (process, port), ThreadPoolExecutor(8) as pool:
        calls = [pool.submit(_post, port, _texts(str(n), 256)) for n in range(6)]
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        answers = [call.result() for call in calls]
        process.wait(timeout=10)
        stopped = time.monotonic() - signalled
    # Which requests finish before the window depends on the machine; that each is answered does not.
    kinds = {_answer(*answer) for answer in answers}
    assert kinds <= {"200", "429 overloaded", "503 draining"}, kinds
    assert all(len(json.loads(body)["embeddings"]) == 256 for status, _, body in answers if status == 200)
    assert (process.returncode, stopped < 9) == (0, True), (process.returncode, stopped)


@pytest.mark.slow
def test_server_answers_503_json_on_a_kept_alive_connection_after_sigterm() -> None:
    """waitress refused the app's Connection: close and answered 500; the wire now closes it instead."""
    with serving("embed") as (process, port), ThreadPoolExecutor(1) as pool:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/", _texts("a", 1), {"Content-Type": "application/json"})
            first = connection.getresponse()
            assert (first.status, len(first.read()) > 0) == (200, True)
            # A long request keeps the instance draining while the kept-alive connection is used again.
            slow = pool.submit(_post, port, json.dumps({"texts": _long(256)}).encode())
            time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            connection.request("POST", "/", _texts("b", 1), {"Content-Type": "application/json"})
            response = connection.getresponse()
            status, headers, body = response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()
        slow_kind = _answer(*slow.result())
        process.wait(timeout=10)
    assert (status, headers.get("Connection"), json.loads(body)["error_type"]) == (503, "close", "draining"), body
    assert slow_kind in {"200", "503 draining"}, slow_kind


@pytest.mark.slow
def test_server_answers_a_request_that_cannot_finish_in_the_drain_window() -> None:
    with serving("cluster", {"SIMFN_DRAIN_SECONDS": "2"}) as (process, port), ThreadPoolExecutor(1) as pool:
        # 10,000 distinct goals take tens of seconds to encode on two cores: far past a 2 s window.
        body = json.dumps({"texts": [f"goal {i}: raise attendance at site {i}" for i in range(10_000)]}).encode()
        call = pool.submit(_post, port, body)
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        kind = _answer(*call.result())
        process.wait(timeout=10)
        stopped = time.monotonic() - signalled
    assert kind in {"200", "503 draining"}, kind
    assert (process.returncode, stopped < 3) == (0, True), (process.returncode, stopped)


def _long(count: int) -> list[str]:
    return [f"{i} " + "improve attendance through weekly family outreach " * 40 for i in range(count)]


@pytest.mark.slow
def test_server_stays_healthy_and_answers_200_or_429_under_overload() -> None:
    with serving("embed") as (_, port), ThreadPoolExecutor(16) as pool:
        calls = [pool.submit(_post, port, _texts(str(n), 128)) for n in range(48)]
        health = []
        while not all(call.done() for call in calls):
            started = time.monotonic()
            assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
            health.append(time.monotonic() - started)
            time.sleep(0.05)
        answers = [call.result() for call in calls]
    kinds = {_answer(*answer) for answer in answers}
    assert kinds <= {"200", "429 overloaded"}, kinds
    assert max(health) < 1.0, max(health)


@pytest.mark.slow
def test_server_keeps_health_under_a_thousand_idle_and_half_sent_connections() -> None:
    with serving("embed", {"SIMFN_RECEIVE_SECONDS": "2"}) as (_, port):
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(500)]
        stalled = [socket.create_connection(("127.0.0.1", port)) for _ in range(500)]
        try:
            for connection in stalled:
                connection.sendall(b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{")
            started = time.monotonic()
            health = get(f"http://127.0.0.1:{port}/healthz")
            seconds = time.monotonic() - started
            assert _post(port, _texts("x", 1))[0] == 200
            for connection in stalled[-100:]:
                connection.settimeout(10)
                assert connection.recv(1) == b"", "the server kept a stalled connection open"
        finally:
            for connection in idle + stalled:
                connection.close()
    assert (health, seconds < 1.0) == ((200, {"status": "ok"}), True), seconds


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"texts": ["' + b"x" * 2_000_000 + b'"]}', {}),
        (b'{"texts": ["' + b"x" * 2_000_000 + b'"]}', {"Transfer-Encoding": "chunked"}),
    ],
)
def test_server_answers_413_json_for_a_body_over_the_limit(body: bytes, headers: dict[str, str]) -> None:
    with (
        serving("embed") as (_, port),
        contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=30)) as connection,
    ):
        chunked = "Transfer-Encoding" in headers
        payload = iter([body]) if chunked else body
        connection.request("POST", "/", payload, {"Content-Type": "application/json"}, encode_chunked=chunked)
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["error_type"]) == (413, "payload_too_large")


@pytest.mark.slow
def test_server_refuses_a_huge_body_before_receiving_it() -> None:
    with serving("embed") as (_, port), socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        connection.sendall(b"Content-Length: 4000001\r\n\r\n")
        answer = b""
        while b"payload_too_large" not in answer and (chunk := connection.recv(1000)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ") and b'"error_type":"payload_too_large"' in answer, answer


@pytest.mark.slow
def test_server_exits_non_zero_on_a_corrupt_artifact(tmp_path: Path) -> None:
    settings = Settings()
    shutil.copytree(settings.model_dirs[settings.model], tmp_path / "model")
    with (tmp_path / "model" / "model.onnx").open("r+b") as graph:
        graph.seek(1000)
        graph.write(b"\x00corrupt\x00")
    process = start("embed", free_port(), {"SIMFN_MODELS": f"all-MiniLM-L6-v2={tmp_path / 'model'}"})
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 1 and "model.onnx is corrupt" in output, output


def test_server_exits_non_zero_on_bad_settings() -> None:
    process = start("embed", free_port(), {"SIMFN_BACKEND": "torch"})
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 1 and "SIMFN_BACKEND" in output, output


@pytest.mark.slow
def test_server_answers_requests_that_arrive_during_warm_up() -> None:
    """The first inferences on two threads at once once deadlocked OpenVINO's bindings, freezing the process."""
    port = free_port()
    process = start("compare", port)

    def call(index: int) -> int:
        deadline = time.monotonic() + 30
        while True:
            try:
                return _post(port, json.dumps({"text_1": f"goal {index}", "text_2": "another goal"}).encode())[0]
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    try:
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(call, range(4))) == [200] * 4
    finally:
        process.kill()
        process.communicate(timeout=10)
