"""Production serving: one function per process under waitress. `python -m common.server embed --port 8081`.

Settings are checked before the socket opens; the model (its checksums first) loads and warms up in the
background while /healthz already answers. /readyz turns 200 when that is done; if it fails, the process exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

import functions_framework
import waitress
from flask import Flask
from werkzeug.exceptions import HTTPException

from common import logs
from common.config import PROJECT_ROOT, SettingsError
from common.http import framework_error
from common.models import import_backend
from common.runtime import get_runtime

TARGETS = ("embed", "compare", "cluster")
logger = logging.getLogger(__name__)


def create_app(target: str) -> Flask:
    """The function's WSGI app, built exactly as functions-framework builds it."""
    if target not in TARGETS:
        raise ValueError(f"unknown function {target!r}; expected one of {', '.join(TARGETS)}")
    source = str(PROJECT_ROOT / "functions" / f"{target}.py")
    app: Flask = functions_framework.create_app(target, source)  # type: ignore[no-untyped-call]
    app.register_error_handler(HTTPException, framework_error)
    return app


def _exit() -> None:
    """A process that cannot load its model must not linger as a live but never-ready instance."""
    logger.error("exiting: the model could not be loaded")
    logging.shutdown()
    os._exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 on Cloud Foundry")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logs.configure()
    try:
        runtime = get_runtime()
        # Imported before the socket opens: a heavy import in the warm-up thread would stall /healthz.
        import_backend(runtime.settings.backend)
    except SettingsError as error:
        logger.error("cannot start: %s", error)
        raise SystemExit(1) from None
    app = create_app(args.target)
    runtime.models.start_warm_up(on_failure=_exit)
    logger.info("serving", extra={"function": args.target, "engine": runtime.settings.backend})
    waitress.serve(app, host=args.host, port=args.port, threads=runtime.settings.threads, ident="simfn")


if __name__ == "__main__":
    main()
