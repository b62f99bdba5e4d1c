from __future__ import annotations

import pytest

from bench.streams import measure


@pytest.mark.slow
@pytest.mark.parametrize("streams", [1, 2])
def test_streams_measures_throughput_and_the_memory_of_the_largest_batches(streams: int) -> None:
    found = measure(streams, "f32", batches=2)
    assert found["texts_per_s"] > 0 and found["peak_rss_mb"] > 100, found
