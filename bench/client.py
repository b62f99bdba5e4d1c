"""The one HTTP client of the benchmarks: a request's status, headers, body and time, or how it failed."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Answer:
    status: int  # 0: no complete answer (reset, cut, timed out)
    seconds: float
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    failure: str = ""  # the exception's type when there was no complete answer

    @property
    def kind(self) -> str:
        """`200`, `413 payload_too_large`, ... or the failure: what a report counts."""
        if not self.status:
            return self.failure
        if self.status == 200:
            return "200"
        try:
            return f"{self.status} {json.loads(self.body)['error_type']}"
        except (ValueError, KeyError, TypeError):
            return f"{self.status} not JSON"


class Client:
    """One keep-alive connection to a local function; reconnects after a failure."""

    def __init__(self, port: int, timeout: float = 300) -> None:
        self.port = port
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        began = time.perf_counter()
        try:
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self._connection.request(method, path, body, {**JSON_HEADERS, **(headers or {})})
            response = self._connection.getresponse()
            data = response.read()
            answer = Answer(response.status, time.perf_counter() - began, data, dict(response.getheaders()))
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return answer
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return Answer(0, time.perf_counter() - began, failure=type(error).__name__)

    def post(self, body: bytes | object, headers: dict[str, str] | None = None) -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", "/", data, headers)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
