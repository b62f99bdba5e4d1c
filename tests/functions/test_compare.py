from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from common.config import DEFAULT_MODEL
from common.runtime import Runtime
from common.serving.app import create_app
from common.vectors import to_base64
from tests.fakes import DIMENSIONS as D
from tests.fakes import fake_runtime

QUERY = "Improve family engagement through monthly parent workshops"
CANDIDATES = [
    "Reduce staff turnover with better onboarding",
    "Increase family engagement by holding parent workshops every month",
    "Parents attend workshops each month to build engagement",
    "Improve oral health screenings for infants",
]


def _post(client: FlaskClient, body: object, path: str = "/") -> Any:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json


def _vectors(runtime: Runtime, texts: list[str]) -> list[list[float]]:
    vectors: list[list[float]] = runtime.models.get().encode(texts).tolist()
    return vectors


def test_compare_pair_is_the_cosine_of_the_embeddings(compare_client: FlaskClient, real_runtime: Runtime) -> None:
    body = _post(compare_client, {"text_1": QUERY, "text_2": CANDIDATES[1]})
    first, second = real_runtime.models.get().encode([QUERY, CANDIDATES[1]])
    assert body == {"similarity": pytest.approx(float(first @ second), abs=1e-6)}


def test_compare_pair_accepts_the_node_apps_legacy_request(compare_client: FlaskClient) -> None:
    legacy = {"text_1": QUERY, "text_2": CANDIDATES[0], "recipient_id": None, "cluster": False}
    assert 0 < _post(compare_client, legacy, "/api/v1/compute")["similarity"] < 0.5


def test_compare_query_ranks_all_candidates_highest_first(compare_client: FlaskClient) -> None:
    matches = _post(compare_client, {"query": QUERY, "candidates": CANDIDATES})["matches"]
    scores = [match["similarity"] for match in matches]
    assert sorted(match["index"] for match in matches) == [0, 1, 2, 3]
    assert scores == sorted(scores, reverse=True) and matches[0]["index"] == 1


def test_compare_query_applies_threshold_and_top_k(compare_client: FlaskClient) -> None:
    body = {"query": QUERY, "candidates": CANDIDATES, "threshold": 0.5, "top_k": 1}
    assert [m["index"] for m in _post(compare_client, body)["matches"]] == [1]


def test_compare_query_gives_the_same_answer_for_texts_and_stored_vectors(
    compare_client: FlaskClient, real_runtime: Runtime
) -> None:
    by_text = _post(
        compare_client, {"query": QUERY, "candidates": [{"id": f"g{i}", "text": t} for i, t in enumerate(CANDIDATES)]}
    )
    vectors = _vectors(real_runtime, [QUERY, *CANDIDATES])
    stored = [{"id": f"g{i}", "embedding": v} for i, v in enumerate(vectors[1:])]
    by_vector = _post(compare_client, {"query_embedding": vectors[0], "candidates": stored})
    assert [(m["id"], m["index"]) for m in by_text["matches"]] == [(m["id"], m["index"]) for m in by_vector["matches"]]
    assert np.allclose(
        [m["similarity"] for m in by_text["matches"]], [m["similarity"] for m in by_vector["matches"]], atol=1e-5
    )


def test_compare_all_pairs_lists_pairs_above_threshold(compare_client: FlaskClient, real_runtime: Runtime) -> None:
    texts = [QUERY, *CANDIDATES]
    body = _post(compare_client, {"texts": texts, "threshold": 0.6})
    vectors = np.array(_vectors(real_runtime, texts))
    full = vectors @ vectors.T
    expected = {(i, j) for i in range(5) for j in range(i + 1, 5) if full[i, j] >= 0.6}
    assert {(p["i"], p["j"]) for p in body["pairs"]} == expected and expected
    assert body["threshold"] == 0.6


def test_compare_all_pairs_uses_the_default_threshold(compare_client: FlaskClient, real_runtime: Runtime) -> None:
    body = _post(compare_client, {"embeddings": _vectors(real_runtime, [QUERY, QUERY, CANDIDATES[0]])})
    assert body["threshold"] == real_runtime.settings.duplicate_threshold
    assert [(p["i"], p["j"]) for p in body["pairs"]] == [(0, 1)]


def test_compare_query_marks_matches_in_the_review_band_possible(compare_client: FlaskClient) -> None:
    plain = _post(compare_client, {"query": QUERY, "candidates": CANDIDATES})["matches"]
    scores = {m["index"]: m["similarity"] for m in plain}
    threshold, review = 0.92, 0.17  # scores: 0.16, 0.95, 0.90, 0.18
    banded = {"query": QUERY, "candidates": CANDIDATES, "threshold": threshold, "review_threshold": review}
    matches = _post(compare_client, banded)["matches"]
    expected = {i: "duplicate" if s >= threshold else "possible" for i, s in scores.items() if s >= review}
    assert {m["index"]: m["verdict"] for m in matches} == expected, matches
    assert set(expected.values()) == {"duplicate", "possible"}
    assert all("verdict" not in m for m in plain)


def test_compare_all_pairs_band_adds_possible_pairs_and_keeps_the_duplicates(
    compare_client: FlaskClient, real_runtime: Runtime
) -> None:
    texts = [QUERY, *CANDIDATES]
    duplicates = _post(compare_client, {"texts": texts})["pairs"]
    body = _post(compare_client, {"texts": texts, "review_threshold": 0.15})
    threshold = real_runtime.settings.duplicate_threshold
    assert body["threshold"] == threshold
    assert [{**p, "verdict": "duplicate"} for p in duplicates] == [
        p for p in body["pairs"] if p["similarity"] >= threshold
    ]
    possible = [p for p in body["pairs"] if p["similarity"] < threshold]
    assert possible and all(p["verdict"] == "possible" and p["similarity"] >= 0.15 for p in possible), body


def test_compare_default_threshold_is_the_models_own_when_it_has_one() -> None:
    client = create_app("compare", fake_runtime(model_thresholds={DEFAULT_MODEL: (0.31, None)})).test_client()
    response = client.post("/", json={"texts": ["a", "b"]})
    assert response.status_code == 200 and response.json is not None and response.json["threshold"] == 0.31


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"texts": ["a", "b"], "threshold": 0.5, "review_threshold": 0.6}, "validation_error"),
        ({"texts": ["a", "b"], "review_threshold": 0.99}, "validation_error"),
        ({"query": "a", "candidates": ["b"], "threshold": 0.5, "review_threshold": 0.6}, "validation_error"),
        ({"text_1": "a", "text_2": "b", "review_threshold": 0.5}, "validation_error"),
        ({"text_1": QUERY, "text_2": "x", "texts": ["a"]}, "validation_error"),
        ({"query": QUERY}, "validation_error"),
        ({"query": QUERY, "query_embedding": [0.1] * D, "candidates": ["a"]}, "validation_error"),
        ({"query_embedding": [0.1] * 3, "candidates": ["a"]}, "invalid_vector"),
        ({"embeddings": [[0.0] * D, [0.1] * D]}, "invalid_vector"),
        ({"text_1": QUERY}, "validation_error"),
        ({"text_1": QUERY, "text_2": "x", "cluster": True}, "validation_error"),
        ({}, "validation_error"),
        ({"embeddings": [[0.1] * D] * 500, "threshold": -1}, "too_many_pairs"),
    ],
)
def test_compare_rejects_bad_requests(fake_compare_client: FlaskClient, body: object, error_type: str) -> None:
    response = fake_compare_client.post("/", json=body)
    assert response.status_code == 422 and response.json is not None, response.text
    assert response.json["error_type"] == error_type, response.text


def test_compare_rejects_non_finite_vectors(fake_compare_client: FlaskClient) -> None:
    body = b'{"query_embedding": [NaN' + b", 0.1" * (D - 1) + b'], "candidates": ["a"]}'
    response = fake_compare_client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text


MATH = "Grantee will increase the use of math language and activities"
DUPLICATES = [
    ("Reduce staff turnover with better onboarding", "Lower staff turnover by improving onboarding for new hires"),
    (MATH, "The grantee will increase math activities and math language in classrooms"),
    (
        "Full and effective participation of children who are DLL and their families",
        "Full & effective participation of DLL children and their families",
    ),
]
DIFFERENT = [
    # Same template, another subject (cosine 0.74): MRPC's F1 optimum, 0.60, would call it a duplicate.
    (MATH, "Grantee will increase the use of literacy activities"),
    (QUERY, "Improve staff retention through monthly staff meetings"),
]


@pytest.mark.parametrize(("pair", "duplicate"), [(p, True) for p in DUPLICATES] + [(p, False) for p in DIFFERENT])
def test_compare_default_threshold_tells_duplicate_goals_from_different_ones(
    compare_client: FlaskClient, pair: tuple[str, str], duplicate: bool
) -> None:
    body = _post(compare_client, {"texts": list(pair)})
    assert bool(body["pairs"]) is duplicate, body


def test_compare_takes_stored_vectors_as_base64_wherever_vectors_go(fake_compare_client: FlaskClient) -> None:
    rows = np.random.default_rng(1).standard_normal((3, D)).astype(np.float32)
    rows[1] = rows[0] * 3
    as_lists = fake_compare_client.post("/", json={"embeddings": rows.tolist(), "threshold": 0.99}).json
    packed = fake_compare_client.post("/", json={"embeddings": to_base64(rows), "threshold": 0.99}).json
    assert as_lists is not None and packed is not None and [(p["i"], p["j"]) for p in packed["pairs"]] == [(0, 1)]
    assert [(p["i"], p["j"]) for p in as_lists["pairs"]] == [(0, 1)]
    candidates = [{"id": f"g{i}", "embedding": to_base64(rows[i : i + 1])} for i in (1, 2)]
    query = fake_compare_client.post("/", json={"query_embedding": to_base64(rows[:1]), "candidates": candidates})
    assert query.json is not None and query.json["matches"][0]["id"] == "g1", query.text


def test_compare_refuses_base64_that_is_not_whole_vectors(fake_compare_client: FlaskClient) -> None:
    response = fake_compare_client.post("/", json={"embeddings": to_base64(np.ones(D + 1, np.float32))})
    body = response.json or {}
    assert (response.status_code, body["error_type"]) == (422, "invalid_vector"), response.text
