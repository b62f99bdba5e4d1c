"""Backpressure and draining: at most N inferences at once, a bounded wait for a slot, then 429 or 503.

Small requests (a declared body of at most SMALL_BODY_BYTES) have slots of their own besides: they cost next
to no memory, and the more of them run at once, the more texts each engine call carries (common.batching).
A small request finding its own slots taken waits for an inference slot like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from common.serving.errors import RETRY, ApiError


class Admission:
    def __init__(self, slots: int, max_queued: int, wait_seconds: float, small_slots: int = 0) -> None:
        self.slots = slots
        self.max_queued = max_queued
        self.wait_seconds = wait_seconds
        self.in_flight = 0
        self.queued = 0
        self.draining = False
        self._semaphore = threading.BoundedSemaphore(slots)
        self._small = threading.BoundedSemaphore(small_slots)
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, small: bool = False) -> Iterator[None]:
        """Hold one of the slots for the body of the with-block, or raise a 429 or 503 ApiError."""
        with self._lock:
            if self.draining:
                raise ApiError(503, "draining", "this instance is shutting down; retry", dict(RETRY))
            lane = self._small if small and self._small.acquire(blocking=False) else None
            acquired = lane is not None or self._semaphore.acquire(blocking=False)
            if not acquired and self.queued >= self.max_queued:
                raise self._overloaded()
            self.queued += not acquired
        if not acquired:
            acquired = self._semaphore.acquire(timeout=self.wait_seconds)
            with self._lock:
                self.queued -= 1
            if not acquired:
                raise self._overloaded()
        with self._lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            (lane or self._semaphore).release()

    def drain(self) -> None:
        """From now on: /readyz is 503 and new requests get 503; those holding or awaiting a slot finish."""
        with self._lock:
            self.draining = True

    def _overloaded(self) -> ApiError:
        return ApiError(
            429, "overloaded", f"all {self.slots} inference slots are busy; retry after a second", dict(RETRY)
        )
