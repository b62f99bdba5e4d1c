"""The process's cut-off for work: set once draining begins, checked between engine calls and similarity blocks.

A request still running at the cut-off stops at its next check and is answered 503 `draining`, so the
instance can exit within Cloud Foundry's window with every request answered instead of cut.
"""

from __future__ import annotations

import math
import time

_cutoff = math.inf


class PastCutoffError(RuntimeError):
    """The instance is shutting down and this work would run past its window."""

    def __init__(self) -> None:
        super().__init__("this instance is shutting down; retry")


def set_cutoff(at: float) -> None:
    """From time.monotonic() == at on, every check raises PastCutoffError."""
    global _cutoff
    _cutoff = at


def check() -> None:
    if time.monotonic() >= _cutoff:
        raise PastCutoffError
