"""Production serving: one function per process under waitress. `python -m common.server embed --port 8081`.

Settings are checked before the socket opens; the model (its checksums first) loads and warms up in the
background while /healthz already answers. /readyz turns 200 when that is done; if it fails, the process exits 1.
On SIGTERM the instance drains: it stops accepting, answers new requests 503 `draining` (closing their
connections), lets in-flight ones finish, answers 503 any still running 1 s before the window ends, exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType

from waitress import wasyncore

from common import allocator, cutoff, logs
from common.config import SettingsError
from common.engines import choice
from common.models import import_backend
from common.runtime import Runtime, get_runtime
from common.serving import wire
from common.serving.app import TARGETS, create_app

# A request still running this long before the drain window closes is answered 503 instead of finishing.
ANSWER_MARGIN_SECONDS = 1.0
logger = logging.getLogger(__name__)


def _exit(code: int, message: str) -> None:
    logger.log(logging.ERROR if code else logging.INFO, message)
    logging.shutdown()
    os._exit(code)


def _stop_accepting(server: wire.Server, done: threading.Event) -> None:
    """Accept what already waits in the kernel's backlog (closing it would reset those), then close."""
    while (pair := server.accept()) is not None:
        connection, address = pair
        server.channel_class(server, connection, server.fix_addr(address), server.adj, map=server._map)
    wasyncore.dispatcher.close(server)
    done.set()


def _drain(server: wire.Server, runtime: Runtime) -> None:
    """Stop accepting, answer and close each connection, exit once none is left or at the deadline.

    Exiting with a connection open would reset it, with a request the client may just have sent. So each is
    closed by us: after its next answer (`Connection: close`), by the client when it is done with it (Node
    closes an idle connection after 4 s), or, 1 s before the end, once it has been quiet for a moment.
    """
    logger.info("draining")
    deadline = time.monotonic() + runtime.settings.drain_seconds
    last_call = deadline - ANSWER_MARGIN_SECONDS
    cutoff.set_cutoff(last_call)
    # The listener is closed first, inside waitress's loop (closing it under a running select() breaks the
    # loop): a client answered 503 that reconnects must find it refused, not queued and then reset.
    closed = threading.Event()
    server.trigger.pull_trigger(lambda: _stop_accepting(server, closed))
    closed.wait(timeout=1.0)
    server.draining = True
    runtime.admission.drain()
    while time.monotonic() < deadline and (server.active_channels or runtime.admission.in_flight):
        if time.monotonic() >= last_call:
            server.trigger.pull_trigger(server.close_quiet)
        time.sleep(0.02)
    _exit(0, "drained" if time.monotonic() < deadline else "drain deadline reached")


def _on_sigterm(server: wire.Server, runtime: Runtime) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        # Work in a thread: a signal handler may interrupt code that holds the locks this work needs.
        threading.Thread(target=_drain, args=(server, runtime), name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 on Cloud Foundry")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logs.configure()
    allocator.configure()
    try:
        runtime = get_runtime()
        # Imported before the socket opens: a heavy import in the warm-up thread would stall /healthz.
        import_backend(runtime.settings.backend)
    except SettingsError as error:
        logger.error("cannot start: %s", error)
        raise SystemExit(1) from None
    settings = runtime.settings
    policy = wire.policy_for(args.target, settings)
    server = wire.create(create_app(args.target), policy, args.host, args.port, settings.threads)
    runtime.models.start_warm_up(on_failure=lambda: _exit(1, "exiting: the model could not be loaded"))
    _on_sigterm(server, runtime)
    logger.info("serving", extra={"function": args.target, "engine": choice.resolve(settings.backend)})
    server.run()


if __name__ == "__main__":
    main()
