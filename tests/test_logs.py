from __future__ import annotations

import json
import logging
import sys

from common.logs import JsonFormatter


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("common.http", logging.INFO, __file__, 1, "request", None, None)
    record.__dict__.update(extra)
    return record


def test_json_formatter_writes_one_object_with_the_request_fields() -> None:
    line = JsonFormatter().format(_record(request_id="r1", status=200, items=3, ms=1.5, unrelated="x"))
    payload = json.loads(line)
    assert "\n" not in line
    assert {k: payload[k] for k in ("message", "request_id", "status", "items", "ms")} == {
        "message": "request",
        "request_id": "r1",
        "status": 200,
        "items": 3,
        "ms": 1.5,
    }
    assert "unrelated" not in payload


def test_json_formatter_keeps_the_traceback_in_one_line_without_the_message() -> None:
    message = "a client's text"
    try:
        raise ValueError(message)
    except ValueError:
        record = _record()
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    exception = json.loads(line)["exception"]
    assert "\n" not in line and "test_logs.py" in exception and exception.endswith("ValueError"), line
    assert "client's text" not in line
