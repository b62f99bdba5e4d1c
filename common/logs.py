"""JSON log lines: one object per line, with the request fields passed as `extra`. Never texts or vectors."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback

FIELDS = ("request_id", "function", "method", "path", "status", "error_type", "items", "ms", "model", "engine")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info and record.exc_info[0]:
            # The frames and the exception's type, never its message: a message may quote a client's text.
            kind, _, trace = record.exc_info
            payload["exception"] = "".join(traceback.format_tb(trace)) + kind.__name__
        return json.dumps(payload)


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stdout as JSON (Cloud Foundry collects stdout)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
