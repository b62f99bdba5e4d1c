"""glibc's allocator, told to give freed memory back: a handful of arenas, no ever-rising mmap threshold.

By default glibc keeps up to 8 arenas a core, each holding on to what its thread freed, and raises its mmap
threshold after every large free, so later large blocks come from arenas and stay. Measured on embed after
1,000 requests (bench.attack): the settings here and a trim after large requests keep RSS near its level
after load. No-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
# Blocks from 256 kB up are mapped on their own and unmapped when freed (setting it fixes the threshold).
MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 1024 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.mallopt  # noqa: B018  # only glibc has these
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def configure() -> None:
    """Set before the threads start: an arena is created per thread on first use."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def release() -> None:
    """Return the free memory of every arena to the system (a few milliseconds)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
