"""The HTTP wire under the app: waitress, with our answers where waitress would give its own.

- The screen runs as soon as a request's headers are in: a request it refuses (no key, too large, wrong path,
  method or media type) is answered at once, from its head; its declared body is then read off the socket and
  dropped as it arrives, never stored or parsed, and the connection stays usable (closing on an unread body
  would reset it, and the client would see a reset instead of the answer). A chunked body, whose length is
  unknown, is dropped as it is parsed and answered at its end, or as soon as it passes the limit.
- Every error waitress makes itself (malformed request, headers too large, body too large, unsupported
  transfer encoding) is our JSON, with a fixed message: waitress's own text quotes the client's headers.
- Connections are bounded: past `max_connections` a new one closes the longest-idle one; a keep-alive
  connection idle for `idle_seconds`, or a request not fully received `receive_seconds` after its first byte,
  is closed. So idle, trickling or half-sent connections can never keep a health check out.
- Once draining, every response closes its connection (`Connection: close`), set here because a WSGI app
  may not send hop-by-hop headers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error

from common import allocator
from common.config import Settings
from common.serving import metrics
from common.serving.errors import ApiError, ErrorType
from common.serving.limits import Limits, limits_for
from common.serving.responses import JSON, error_body
from common.serving.screen import Head, media_type, request_id, screen, too_large

logger = logging.getLogger(__name__)
# The most a refused request's body may be read and dropped; a larger declared body is answered and closed.
DISCARD_BYTES = 1 << 30
# At the end of a drain, a connection this long without a request is closed; a busier one gets its 503 first.
QUIET_SECONDS = 0.25
# Freed memory goes back to the system after a request whose body was at least this large.
TRIM_AFTER_BYTES = 1 << 20
WAITRESS_ERRORS: dict[int, tuple[ErrorType, str]] = {
    400: ("bad_request", "the request is not valid HTTP/1.1"),
    413: ("payload_too_large", "the body is larger than this function accepts"),
    431: ("headers_too_large", "the request's headers are too large"),
    501: ("not_implemented", "only the chunked transfer encoding is supported"),
}


@dataclass(frozen=True)
class Policy:
    """What the wire decides before the app: the function's screen and limits, and connection bounds."""

    function: str
    screen: Callable[[Head], None]  # raises the ApiError of a refused request
    limits: Limits
    max_connections: int
    idle_seconds: float
    receive_seconds: float


def policy_for(function: str, settings: Settings) -> Policy:
    limits = limits_for(function, settings)
    return Policy(
        function=function,
        screen=lambda head: screen(head, function, limits, settings.api_keys),
        limits=limits,
        max_connections=settings.max_connections,
        idle_seconds=settings.idle_seconds,
        receive_seconds=settings.receive_seconds,
    )


class Refused(Error):  # type: ignore[misc]
    """A request the screen refused, carried through waitress to the error task."""

    def __init__(self, answer: ApiError) -> None:
        super().__init__(answer.message)
        self.code = answer.status
        self.answer = answer


class Dropped:
    """A body buffer that keeps nothing: the body of a refused request is read and dropped."""

    def append(self, data: bytes) -> None:
        pass

    def __len__(self) -> int:
        return 0

    def close(self) -> None:
        pass


class Parser(HTTPRequestParser):  # type: ignore[misc]
    policy: Policy
    # waitress's own attributes that this class sets
    error: Any
    completed: bool
    expect_continue: bool

    refused: ApiError | None = None
    keep_open = False  # answered from its head while its declared body is still being dropped

    def __init__(self, adj: Adjustments, channel: Channel) -> None:
        super().__init__(adj)
        self.channel = channel

    def received(self, data: bytes) -> int:
        headers_were_in = self.headers_finished
        consumed: int = super().received(data)
        if self.error is None and self.refused is None:
            if self.headers_finished and not headers_were_in:
                self.refused = self._screen()
                if self.refused is not None:
                    consumed += self._refuse_from_head(data[consumed:])
            elif self.chunked and self.body_bytes_received > self.policy.limits.body_bytes:
                self.refused = too_large(self.policy.limits)
                self._drop_chunks()
        if self.completed and self.refused is not None and self.error is None:
            self.error = Refused(self.refused)
        return consumed

    def head(self) -> Head:
        headers = self.headers
        return Head(
            self.command or "",
            self.path or "",
            media_type(headers.get("CONTENT_TYPE")),
            self.content_length,
            headers.get("X_API_KEY"),
            headers.get("AUTHORIZATION"),
        )

    def _screen(self) -> ApiError | None:
        try:
            self.policy.screen(self.head())
        except ApiError as error:
            return error
        return None

    def _refuse_from_head(self, rest: bytes) -> int:
        """Answer now; a declared body is then read off the socket and dropped (consumed here: what came along)."""
        if self.chunked and not self.expect_continue:
            self._drop_chunks()  # its length is unknown: dropped as it is parsed, answered at its end
            return 0
        self.completed = True
        if self.expect_continue or not self.content_length:
            # A client waiting for 100 Continue gets the answer instead and sends no body; nothing to drop.
            self.expect_continue = False
            return 0
        here = min(len(rest), int(self.content_length))
        self.channel.dropping = self.content_length - here
        self.keep_open = True
        return here

    def _drop_chunks(self) -> None:
        self.body_rcv.buf.close()
        self.body_rcv.buf = Dropped()


class Task(WSGITask):  # type: ignore[misc]
    def build_response_header(self) -> bytes:
        if self.channel.server.draining:
            self.set_close_on_finish()
        header: bytes = super().build_response_header()
        return header

    def execute(self) -> None:
        try:
            super().execute()
        finally:
            if self.request.body_bytes_received >= TRIM_AFTER_BYTES:
                allocator.release()


class JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress's own errors and the screen's refusals, as our JSON error body; logged like any request."""

    def execute(self) -> None:
        error = self.request.error
        answer = error.answer if isinstance(error, Refused) else _waitress_error(error.code)
        policy: Policy = self.channel.policy
        rid = request_id(self.request.headers.get("X_REQUEST_ID"), self.request.headers.get("X_VCAP_REQUEST_ID"))
        body = error_body(answer, getattr(self.request, "path", "") or "/").encode()
        self.status = f"{answer.status} {HTTPStatus(answer.status).phrase}"
        self.response_headers.extend([("Content-Type", JSON), ("X-Request-Id", rid), *answer.headers.items()])
        if not getattr(self.request, "keep_open", False):
            self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        metrics.observe(policy.function, answer.status, answer.error_type, 0.0)
        logger.info(
            "request",
            extra={
                "request_id": rid,
                "function": policy.function,
                "method": getattr(self.request, "command", None),  # absent when the request line is garbage
                "status": answer.status,
                "error_type": answer.error_type,
            },
        )


def _waitress_error(code: int) -> ApiError:
    error_type, message = WAITRESS_ERRORS.get(code, ("internal", "internal error"))
    return ApiError(code if code in WAITRESS_ERRORS else 500, error_type, message)


class Channel(HTTPChannel):  # type: ignore[misc]
    task_class = Task
    error_task_class = JsonErrorTask
    parser_type: type[Parser]
    policy: Policy
    receiving_since: float | None = None  # when the request being received (or dropped) sent its first byte
    dropping = 0  # bytes of a refused request's body still to come, to be read and dropped

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser_class = lambda adj: self.parser_type(adj, self)

    def received(self, data: bytes) -> bool:
        if self.dropping:
            dropped = min(self.dropping, len(data))
            self.dropping -= dropped
            data = data[dropped:]
            if not data:
                if not self.dropping:
                    self.receiving_since = None
                return True
        if self.request is None and data:
            self.receiving_since = time.time()
        result: bool = super().received(data)
        if self.request is None and not self.dropping:
            self.receiving_since = None
        return result

    @property
    def idle(self) -> bool:
        """No request of its own is queued, running or being written out."""
        return not (self.requests or self.total_outbufs_len or self.will_close)

    @property
    def idle_since(self) -> float:
        return self.receiving_since if self.receiving_since is not None else float(self.last_activity)


class Server(TcpWSGIServer):  # type: ignore[misc]
    policy: Policy
    next_channel_cleanup: float  # waitress's
    draining = False

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        # Past twice the bound (every connection busy with a request), new ones wait in the kernel's backlog.
        return bool(self.accepting) and len(self.active_channels) < 2 * self.policy.max_connections

    def handle_accept(self) -> None:
        super().handle_accept()
        channels = list(self.active_channels.values())
        if len(channels) > self.policy.max_connections:
            idle = [channel for channel in channels if channel.idle]
            if idle:
                min(idle, key=lambda channel: channel.idle_since).will_close = True

    def close_quiet(self) -> None:
        """At the end of a drain: close the connections quiet for a moment (none is left open at exit).

        A busy client's next request is usually on its way the moment its answer arrives: closing then would
        lose it. Such a connection carries one more request instead, answered 503 with Connection: close.
        """
        quiet_since = time.time() - QUIET_SECONDS
        for channel in list(self.active_channels.values()):
            if channel.idle and channel.request is None and channel.idle_since < quiet_since:
                channel.will_close = True

    def maintenance(self, now: float) -> None:
        """Close idle keep-alive connections and requests still arriving past their deadline."""
        for channel in list(self.active_channels.values()):
            if not channel.idle:
                continue
            limit = self.policy.receive_seconds if channel.receiving_since is not None else self.policy.idle_seconds
            if now - channel.idle_since > limit:
                channel.will_close = True


def create(app: Any, policy: Policy, host: str, port: int, threads: int) -> Server:
    """A waitress server for one function's app, with the policy above."""
    parser = type("BoundParser", (Parser,), {"policy": policy})
    channel = type("BoundChannel", (Channel,), {"policy": policy, "parser_type": parser})
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        ident="simfn",
        # The screen answers 413 from the declared length; up to this, a refused body is dropped cleanly.
        max_request_body_size=DISCARD_BYTES,
        # Deadlines are ours (maintenance, checked every second); waitress's own timeout stays out of the way.
        channel_timeout=max(policy.idle_seconds, policy.receive_seconds) * 10,
        cleanup_interval=1,
        asyncore_use_poll=True,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    server = type("BoundServer", (Server,), {"policy": policy, "channel_class": channel})
    instance: Server = server(app, {}, True, None, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    return instance
