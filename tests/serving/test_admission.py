from __future__ import annotations

import threading
import time

import pytest

from common.serving.admission import Admission
from common.serving.errors import ApiError


def _hold(admission: Admission, release: threading.Event) -> threading.Thread:
    def run() -> None:
        with admission.slot():
            release.wait(5)

    thread = threading.Thread(target=run)
    thread.start()
    while admission.in_flight + admission.queued == 0:
        time.sleep(0.001)
    return thread


def _error(admission: Admission) -> ApiError:
    with pytest.raises(ApiError) as caught, admission.slot():
        pass
    return caught.value


def test_admission_waits_a_bounded_time_then_answers_429() -> None:
    admission, release = Admission(slots=1, max_queued=1, wait_seconds=0.1), threading.Event()
    holder = _hold(admission, release)
    started = time.monotonic()
    error = _error(admission)
    assert (error.status, error.error_type, error.headers) == (429, "overloaded", {"Retry-After": "1"})
    assert 0.1 <= time.monotonic() - started < 1.0
    release.set()
    holder.join()


def test_admission_rejects_at_once_when_the_queue_is_full() -> None:
    admission, release = Admission(slots=1, max_queued=0, wait_seconds=5), threading.Event()
    holder = _hold(admission, release)
    started = time.monotonic()
    assert _error(admission).status == 429 and time.monotonic() - started < 0.5
    release.set()
    holder.join()


def test_admission_gives_a_freed_slot_to_a_waiting_request() -> None:
    admission, release = Admission(slots=1, max_queued=1, wait_seconds=5), threading.Event()
    holder = _hold(admission, release)
    threading.Timer(0.05, release.set).start()
    with admission.slot():
        assert (admission.in_flight, admission.queued) == (1, 0)
    holder.join()
    assert (admission.in_flight, admission.queued) == (0, 0)


def test_admission_releases_the_slot_when_the_work_fails() -> None:
    admission = Admission(slots=1, max_queued=0, wait_seconds=0)
    with pytest.raises(ValueError), admission.slot():
        raise ValueError
    with admission.slot():
        assert admission.in_flight == 1


def test_admission_answers_503_with_retry_after_once_draining() -> None:
    admission = Admission(slots=2, max_queued=2, wait_seconds=1)
    admission.drain()
    error = _error(admission)
    # No hop-by-hop header: waitress refuses them from an app (it answered 500); the wire closes instead.
    assert (error.status, error.error_type, error.headers) == (503, "draining", {"Retry-After": "1"})
