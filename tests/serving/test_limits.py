from __future__ import annotations

import numpy as np
import orjson

from common.serving.limits import DEFAULTS, Limits, json_values_at_most, limits_for
from common.vectors import to_base64
from tests.fakes import fake_settings


def test_cluster_limits_take_2500_json_vectors_as_embed_writes_them_and_10000_as_base64() -> None:
    vectors = np.random.default_rng(0).standard_normal((10_000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    body = orjson.dumps({"embeddings": vectors[:2_500]}, option=orjson.OPT_SERIALIZE_NUMPY)
    limits = DEFAULTS["cluster"]
    assert len(body) <= limits.body_bytes and json_values_at_most(body) <= limits.json_values, len(body)
    assert len(orjson.dumps({"embeddings": to_base64(vectors)})) <= limits.body_bytes


def _values(value: object) -> int:
    if isinstance(value, list):
        return 1 + sum(map(_values, value))
    if isinstance(value, dict):
        return 1 + sum(1 + _values(v) for v in value.values())
    return 1


def test_json_values_at_most_bounds_what_parsing_builds() -> None:
    for value in [[], {}, [1, [2, {"a": "b,c"}]], {"texts": ["x"] * 10}, [[0.5] * 4] * 3, "s", 1]:
        body = orjson.dumps(value)
        assert json_values_at_most(body) >= _values(value), body


def test_limits_can_be_overridden_per_app() -> None:
    limits = limits_for("embed", fake_settings(max_items=64, max_body_bytes=10, max_pairs=5))
    assert limits == Limits(64, 10, DEFAULTS["embed"].json_values, 5)
    assert limits_for("cluster", fake_settings()) == DEFAULTS["cluster"]
