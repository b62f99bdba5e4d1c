from __future__ import annotations

from common.serving.limits import DEFAULTS, Limits, limits_for
from tests.fakes import fake_settings


def test_limits_meet_the_jobs_they_serve() -> None:
    assert DEFAULTS["embed"].items >= 64 and DEFAULTS["compare"].items >= 5_000 and DEFAULTS["cluster"].items >= 10_000
    assert DEFAULTS["embed"].body_bytes == DEFAULTS["compare"].body_bytes == 2_000_000
    # 5,000 stored vectors of 384 numbers written as JSON, at ~21 bytes a number.
    assert DEFAULTS["cluster"].body_bytes > 5_000 * 384 * 21


def test_limits_can_be_overridden_per_app() -> None:
    assert limits_for("embed", fake_settings(max_items=64, max_body_bytes=10)) == Limits(64, 10)
    assert limits_for("cluster", fake_settings()) == DEFAULTS["cluster"]
