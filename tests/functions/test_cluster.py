from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import orjson
import pytest
from flask.testing import FlaskClient

from common.config import DEFAULT_MODEL
from common.runtime import Runtime
from common.serving.app import create_app
from common.serving.limits import DEFAULTS
from common.vectors import to_base64
from tests.fakes import DIMENSIONS as D
from tests.fakes import fake_runtime

GOALS = [
    "Improve family engagement through monthly parent workshops",  # 0 ─┐
    "Reduce staff turnover with better onboarding",  # 1 ─┐          │
    "Increase family engagement by holding parent workshops every month",  # 0
    "Lower staff turnover by improving onboarding for new hires",  # 1
    "Improve oral health screenings for infants",  # alone
    "Improve family engagement with monthly workshops for parents",  # 0
]


def _cluster(client: FlaskClient, body: object) -> Any:
    response = client.post("/", json=body)
    assert response.status_code == 200, response.text
    return response.json


def test_cluster_groups_duplicates_largest_first(cluster_client: FlaskClient) -> None:
    body = _cluster(cluster_client, {"texts": GOALS, "threshold": 0.7})
    assert [c["members"] for c in body["clusters"]] == [[0, 2, 5], [1, 3]], body
    assert all(c["representative"] in c["members"] and c["size"] == len(c["members"]) for c in body["clusters"])
    assert body["threshold"] == 0.7


def test_cluster_items_carry_their_ids(cluster_client: FlaskClient) -> None:
    items = [{"id": f"goal-{i}", "text": text} for i, text in enumerate(GOALS)]
    body = _cluster(cluster_client, {"items": items, "threshold": 0.7})
    assert body["clusters"][1]["ids"] == ["goal-1", "goal-3"], body


def test_cluster_of_stored_vectors_matches_cluster_of_texts(cluster_client: FlaskClient, real_runtime: Runtime) -> None:
    vectors = real_runtime.models.get().encode(GOALS).tolist()
    by_vector = _cluster(cluster_client, {"embeddings": vectors, "threshold": 0.7})
    assert by_vector == _cluster(cluster_client, {"texts": GOALS, "threshold": 0.7})


def test_cluster_uses_the_default_threshold_and_min_size(cluster_client: FlaskClient, real_runtime: Runtime) -> None:
    body = _cluster(cluster_client, {"texts": GOALS, "min_cluster_size": 3, "threshold": 0.7})
    assert [c["members"] for c in body["clusters"]] == [[0, 2, 5]]
    assert _cluster(cluster_client, {"texts": GOALS})["threshold"] == real_runtime.settings.cluster_threshold


def test_cluster_review_band_keeps_the_duplicate_groups_and_marks_what_it_adds(cluster_client: FlaskClient) -> None:
    # 0 and 5 are at 0.98; 2 is 0.95 from 0 and 0.94 from 5; 1 and 3 are at 0.90.
    plain = _cluster(cluster_client, {"texts": GOALS, "threshold": 0.96})["clusters"]
    banded = _cluster(cluster_client, {"texts": GOALS, "threshold": 0.96, "review_threshold": 0.6})["clusters"]
    assert all("verdicts" not in c for c in plain)
    for cluster in banded:
        assert len(cluster["verdicts"]) == cluster["size"] == len(cluster["members"]), cluster
        assert cluster["verdict"] == ("duplicate" if "duplicate" in cluster["verdicts"] else "possible")
        duplicates = [m for m, v in zip(cluster["members"], cluster["verdicts"], strict=True) if v == "duplicate"]
        assert duplicates in [c["members"] for c in plain] or not duplicates, (plain, banded)
    assert [c["members"] for c in plain] == [[0, 5]], plain
    assert [(c["members"], c["verdicts"], c["verdict"]) for c in banded] == [
        ([0, 2, 5], ["duplicate", "possible", "duplicate"], "duplicate"),
        ([1, 3], ["possible", "possible"], "possible"),
    ], banded


def test_cluster_default_threshold_is_the_models_own_when_it_has_one() -> None:
    runtime = fake_runtime(model_thresholds={DEFAULT_MODEL: (None, 0.42)})
    response = create_app("cluster", runtime).test_client().post("/", json={"texts": ["a", "b"]})
    assert response.status_code == 200 and response.json is not None and response.json["threshold"] == 0.42


def test_cluster_refuses_a_review_threshold_above_the_threshold(fake_cluster_client: FlaskClient) -> None:
    response = fake_cluster_client.post("/", json={"texts": ["a", "b"], "threshold": 0.5, "review_threshold": 0.7})
    assert response.status_code == 422 and response.json is not None, response.text
    assert response.json["error_type"] == "validation_error" and "review_threshold" in response.json["error"]


def test_cluster_is_deterministic(cluster_client: FlaskClient) -> None:
    body = {"texts": GOALS * 3, "threshold": 0.7}
    assert _cluster(cluster_client, body) == _cluster(cluster_client, body)


@pytest.mark.parametrize(
    "body",
    [
        {"texts": GOALS, "embeddings": [[0.1] * D]},
        {"texts": GOALS, "min_cluster_size": 1},
        {"texts": GOALS, "threshold": 1.5},
        {"items": [{"id": 1}]},
        {"embeddings": [[0.1] * 12]},
    ],
)
def test_cluster_rejects_bad_requests(fake_cluster_client: FlaskClient, body: object) -> None:
    response = fake_cluster_client.post("/", json=body)
    assert response.status_code == 422, response.text


def test_cluster_takes_2500_json_vectors_in_one_request(cluster_client: FlaskClient, real_runtime: Runtime) -> None:
    """The largest job the body limit must admit: vectors as embed returns them, in one JSON body."""
    texts = [f"goal {i}: {GOALS[i % len(GOALS)]}" for i in range(2_500)]
    # Written as embed writes them (float32, shortest digits): what a client stores and sends back.
    vectors = real_runtime.models.get().encode(texts)
    body = orjson.dumps({"embeddings": vectors}, option=orjson.OPT_SERIALIZE_NUMPY)
    response = cluster_client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and len(body) > 2_000_000, (len(body), response.text[:200])


CHAIN = [
    "Improve family engagement through monthly parent workshops",
    "Improve family engagement through monthly parent meetings",
    "Improve family engagement through monthly staff meetings",
    "Improve staff engagement through monthly staff meetings",
    "Improve staff retention through monthly staff meetings",
]


def test_cluster_does_not_follow_a_chain_of_near_duplicates(cluster_client: FlaskClient, real_runtime: Runtime) -> None:
    """Each step is a near-duplicate at the default threshold; the ends are different goals and must stay apart."""
    vectors = real_runtime.models.get().encode(CHAIN)
    steps = [float(a @ b) for a, b in itertools.pairwise(vectors)]
    threshold = real_runtime.settings.cluster_threshold
    assert min(steps) >= threshold and float(vectors[0] @ vectors[-1]) < 0.5, (steps, threshold)
    clusters = _cluster(cluster_client, {"texts": CHAIN})["clusters"]
    assert not [c for c in clusters if {0, len(CHAIN) - 1} <= set(c["members"])], clusters


def test_cluster_takes_10000_stored_vectors_as_base64_in_one_request(cluster_client: FlaskClient) -> None:
    """Base64 float32 is ~10 MB where JSON would be ~40 MB and 3.8 million parsed floats: the item limit holds."""
    vectors = np.random.default_rng(0).standard_normal((10_000, 384)).astype(np.float32)
    vectors[1] = vectors[0] * 2  # one pair of duplicates, whatever their length
    body = orjson.dumps({"embeddings": to_base64(vectors), "threshold": 0.99})
    response = cluster_client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:200]
    assert response.json is not None and response.json["clusters"][0]["members"] == [0, 1]


def test_cluster_counts_base64_vectors_against_the_item_limit(fake_cluster_client: FlaskClient) -> None:
    packed = to_base64(np.ones((DEFAULTS["cluster"].items + 1, D), np.float32))
    response = fake_cluster_client.post("/", json={"embeddings": packed})
    body = response.json or {}
    assert (response.status_code, body["error_type"]) == (422, "too_many_items"), response.text
    assert f"found {DEFAULTS['cluster'].items + 1}" in body["error"]
