"""The wire under the app, in-process on the fake engine: JSON for waitress's own errors, refusals from the
head with the body dropped, bounded connections and deadlines."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from common.serving import wire
from common.serving.app import create_app
from tests.fakes import fake_runtime

KEY = "k"
HEAD = b"Host: x\r\nX-API-Key: k\r\nContent-Type: application/json\r\n"


@contextlib.contextmanager
def _serving(**overrides: object) -> Iterator[int]:
    """A wire server on loopback in this process, serving embed on the fake engine; its port."""
    runtime = fake_runtime(None, api_keys=(KEY,), **overrides)
    runtime.models.warm_up()
    policy = wire.policy_for("embed", runtime.settings)
    server = wire.create(create_app("embed", runtime), policy, "127.0.0.1", 0, runtime.settings.threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        server.trigger.pull_trigger(lambda: [channel.close() for channel in list(server._map.values())])
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


Answer = tuple[int, dict[str, str], dict[str, object]]


def _exchange(port: int, data: bytes, timeout: float = 10) -> Answer:
    """Send raw bytes on a new connection and read one answer: (status, headers, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        return _read_answer(connection)


def _read_answer(connection: socket.socket) -> Answer:
    received = b""
    while b"\r\n\r\n" not in received and (chunk := connection.recv(65536)):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["Content-Length"]) and (chunk := connection.recv(65536)):
        body += chunk
    return int(lines[0].split()[1]), headers, json.loads(body)


def _post(body: bytes, extra: bytes = b"") -> bytes:
    return b"POST / HTTP/1.1\r\n" + HEAD + extra + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body


@pytest.mark.parametrize(
    ("request_bytes", "status", "error_type"),
    [
        (b"POST / HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: identity\r\n\r\n", 501, "not_implemented"),
        (b"POST / HTTP/1.1\r\n" + HEAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "bad_request"),
        (
            b"POST / HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
        (b"HELLO\r\n\r\n", 400, "bad_request"),
        (b"POST / HTTP/1.1\r\n" + HEAD + b"Content-Length: 99999999999\r\n\r\n", 413, "payload_too_large"),
    ],
)
def test_wire_answers_waitress_errors_in_json(request_bytes: bytes, status: int, error_type: str) -> None:
    with _serving() as port:
        found, headers, body = _exchange(port, request_bytes)
    assert (found, headers["Content-Type"], body["error_type"]) == (status, "application/json", error_type), body


def test_wire_answers_headers_too_large_in_json() -> None:
    with _serving() as port, socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        with contextlib.suppress(OSError):  # it may close before the rest of the headers are sent
            connection.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 270_000 + b"\r\n\r\n")
        answer = b""
        with contextlib.suppress(OSError):
            while b"headers_too_large" not in answer and (chunk := connection.recv(65536)):
                answer += chunk
    assert answer.startswith(b"HTTP/1.0 431 ") and b'"error_type":"headers_too_large"' in answer, answer[:300]


@pytest.mark.parametrize(
    ("request_bytes", "status", "error_type"),
    [
        # No key, a 5 MB body: answered from the head; the body is read off the socket and dropped.
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b" " * 5_000_000, 401, "unauthorized"),
        (_post(b" " * 2_000_001), 413, "payload_too_large"),
        (
            b"POST / HTTP/1.1\r\n"
            + HEAD
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + (b"100000\r\n" + b" " * 0x100000 + b"\r\n") * 3
            + b"0\r\n\r\n",
            413,
            "payload_too_large",
        ),
        (b"PUT / HTTP/1.1\r\n" + HEAD + b"Content-Length: 3\r\n\r\n{}\n", 405, "method_not_allowed"),
        (b"POST /x HTTP/1.1\r\n" + HEAD + b"Content-Length: 3\r\n\r\n{}\n", 404, "not_found"),
    ],
)
def test_wire_refuses_from_the_head_and_drops_the_body(request_bytes: bytes, status: int, error_type: str) -> None:
    with _serving() as port:
        found, _, body = _exchange(port, request_bytes)
    assert (found, body["error_type"]) == (status, error_type), body


def test_wire_answers_a_refusal_before_the_body_is_sent_and_keeps_the_connection() -> None:
    body = b'{"texts": ["' + b"x" * 2_999_983 + b'"]}'
    with _serving() as port, socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\n" + HEAD + b"Content-Length: %d\r\n\r\n" % len(body))
        early = _read_answer(connection)  # before a byte of the body was sent
        connection.sendall(body)  # read off the socket and dropped
        connection.sendall(_post(b'{"texts": ["a"]}'))
        after = _read_answer(connection)
    assert (early[0], early[2]["error_type"], "Connection" in early[1]) == (413, "payload_too_large", False), early
    assert after[0] == 200 and len(after[2]["embeddings"]) == 1, after  # type: ignore[arg-type]


def test_wire_refused_request_with_expect_continue_gets_its_answer_without_sending_a_body() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3000000\r\n\r\n"
    with _serving() as port:
        status, _, body = _exchange(port, head)
    assert (status, body["error_type"]) == (401, "unauthorized"), body


def test_wire_serves_a_valid_request_and_caps_the_request_id() -> None:
    with _serving() as port:
        status, headers, body = _exchange(port, _post(b'{"texts": ["a"]}', b"X-Request-Id: " + b"x" * 500 + b"\r\n"))
        kept = _exchange(port, _post(b'{"texts": ["a"]}', b"X-Request-Id: abc-123\r\n"))[1]["X-Request-Id"]
    assert status == 200 and len(body["embeddings"]) == 1, body  # type: ignore[arg-type]
    assert len(headers["X-Request-Id"]) == 32 and kept == "abc-123", headers


def test_wire_keeps_health_reachable_past_the_connection_bound() -> None:
    with _serving(max_connections=20) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
        try:
            started = time.monotonic()
            status, _, body = _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            seconds = time.monotonic() - started
            closed = _eventually(lambda: sum(_closed_by_server(connection) for connection in idle), at_least=40)
        finally:
            for connection in idle:
                connection.close()
    assert (status, body, seconds < 1.0) == (200, {"status": "ok"}, True), seconds
    assert closed >= 40, f"only {closed} of the 60 connections past the bound of 20 were closed"


def test_wire_closes_requests_that_trickle_past_the_receive_deadline() -> None:
    with _serving(receive_seconds=1.0) as port, socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + 10
        while not _closed_by_server(slow) and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                slow.sendall(b"X")  # one byte at a time keeps it active, not within its deadline
            time.sleep(0.2)
        assert _closed_by_server(slow), "a request trickling for 10 s was still open"


def test_wire_closes_idle_keep_alive_connections() -> None:
    with _serving(idle_seconds=1.0) as port, socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
        assert _eventually(lambda: int(_closed_by_server(idle)), at_least=1), "an idle connection was kept 10 s"


def _eventually(count: Callable[[], int], at_least: int, seconds: float = 10) -> int:
    """count() once it reaches at_least, or its last value after `seconds` (so a busy machine only waits)."""
    deadline = time.monotonic() + seconds
    while (found := count()) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _closed_by_server(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        connection.setblocking(True)
