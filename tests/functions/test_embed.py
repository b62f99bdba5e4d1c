from __future__ import annotations

import numpy as np
import pytest
from flask.testing import FlaskClient

from common.runtime import Runtime
from common.serving.limits import DEFAULTS
from common.vectors import from_base64

GOALS = [
    "Improve family engagement through monthly parent workshops",
    "Increase family engagement by holding parent workshops every month",
    "Reduce staff turnover with better onboarding",
]


def _embed(client: FlaskClient, texts: list[str]) -> np.ndarray:
    response = client.post("/", json={"texts": texts})
    assert response.status_code == 200, response.text
    assert response.json is not None
    return np.array(response.json["embeddings"])


def test_embed_returns_unit_vectors_with_model_and_dimensions(embed_client: FlaskClient) -> None:
    response = embed_client.post("/", json={"texts": GOALS})
    body = response.json
    assert body is not None and (body["model"], body["dimensions"]) == ("all-MiniLM-L6-v2", 384), response.text
    vectors = np.array(body["embeddings"])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embed_writes_each_float32_exactly_and_briefly(embed_client: FlaskClient, real_runtime: Runtime) -> None:
    body = embed_client.post("/", json={"texts": GOALS}).json
    assert body is not None
    sent = np.array(body["embeddings"], dtype=np.float32)
    assert np.array_equal(sent, real_runtime.models.get().encode(GOALS)), "JSON must round-trip the float32 values"
    assert max(len(repr(number)) for row in body["embeddings"] for number in row) <= 16


def test_embed_keeps_input_order(embed_client: FlaskClient) -> None:
    forward = _embed(embed_client, GOALS)
    backward = _embed(embed_client, GOALS[::-1])
    assert np.allclose(forward, backward[::-1], atol=1e-6)


def test_embed_puts_paraphrases_closer_than_other_goals(embed_client: FlaskClient) -> None:
    vectors = _embed(embed_client, GOALS)
    assert vectors[0] @ vectors[1] > 0.8 > vectors[0] @ vectors[2]


def test_embed_serves_health_and_readiness(fake_embed_client: FlaskClient) -> None:
    assert fake_embed_client.get("/healthz").json == {"status": "ok"}
    assert fake_embed_client.get("/readyz").json == {"status": "ready"}


@pytest.mark.parametrize(
    ("body", "status", "error_type"),
    [
        ({"texts": []}, 400, "empty"),
        ({"texts": ["ok", ""]}, 400, "empty"),
        ({"texts": ["ok", "\u200b\ufeff"]}, 400, "empty"),
        ({"texts": ["x"] * (DEFAULTS["embed"].items + 1)}, 422, "too_many_items"),
        ({"texts": ["x" * 8193]}, 422, "validation_error"),
        ({"text": ["a"]}, 422, "validation_error"),
        ({"texts": ["a"], "model": "/etc/passwd"}, 422, "unknown_model"),
    ],
)
def test_embed_rejects_bad_requests(fake_embed_client: FlaskClient, body: object, status: int, error_type: str) -> None:
    response = fake_embed_client.post("/", json=body)
    assert response.status_code == status and response.json is not None, response.text
    assert response.json["error_type"] == error_type, response.text


def test_embed_answers_base64_float32_rows_on_request(fake_embed_client: FlaskClient) -> None:
    floats = fake_embed_client.post("/", json={"texts": GOALS}).json
    packed = fake_embed_client.post("/", json={"texts": GOALS, "encoding_format": "base64"}).json
    assert floats is not None and packed is not None and isinstance(packed["embeddings"], str)
    decoded = from_base64(packed["embeddings"], packed["dimensions"], "embeddings")
    np.testing.assert_array_equal(decoded, np.array(floats["embeddings"], np.float32))
