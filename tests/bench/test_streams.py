from __future__ import annotations

import pytest

from bench.streams import measure


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["openvino-f32", "onnxruntime-f32"])
@pytest.mark.parametrize("streams", [1, 2])
def test_streams_measures_throughput_and_the_memory_of_the_largest_batches(engine: str, streams: int) -> None:
    found = measure(engine, streams, batches=2)
    assert found["texts_per_s"] > 0 and found["peak_rss_mb"] > 100, found
