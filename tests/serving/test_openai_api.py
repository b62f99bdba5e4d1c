"""POST /v1/embeddings on the fake engine: OpenAI's request and answer shapes and its error envelope."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from tests.fakes import DIMENSIONS, FakeEngine
from tests.servers import get, serving

MODEL = "all-MiniLM-L6-v2"


def _post(client: FlaskClient, body: object, **headers: str) -> tuple[int, dict[str, Any]]:
    response = client.post("/v1/embeddings", json=body, headers=headers)
    assert isinstance(response.json, dict), response.text
    return response.status_code, response.json


def test_the_answer_has_openai_shape_with_real_token_counts(fake_embed_client: FlaskClient) -> None:
    status, body = _post(fake_embed_client, {"model": MODEL, "input": ["one two", "three"]})
    assert status == 200, body
    assert (body["object"], body["model"]) == ("list", MODEL)
    assert [(item["object"], item["index"]) for item in body["data"]] == [("embedding", 0), ("embedding", 1)]
    expected = FakeEngine().encode(["one two", "three"])
    np.testing.assert_array_equal(np.array([item["embedding"] for item in body["data"]], np.float32), expected)
    assert body["usage"] == {"prompt_tokens": 4 + 3, "total_tokens": 7}  # the fake counts words + 2


def test_base64_is_each_vector_as_little_endian_float32(fake_embed_client: FlaskClient) -> None:
    status, body = _post(fake_embed_client, {"model": MODEL, "input": "one", "encoding_format": "base64"})
    assert status == 200, body
    vector = np.frombuffer(base64.b64decode(body["data"][0]["embedding"]), "<f4")
    np.testing.assert_array_equal(vector, FakeEngine().encode(["one"])[0])


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"model": "text-embedding-3-small", "input": "a"}, 422, "unknown_model", MODEL),
        ({"model": MODEL, "input": [1, 2, 3]}, 422, "validation_error", "token ids is not accepted"),
        ({"model": MODEL, "input": [[1, 2]]}, 422, "validation_error", "token ids is not accepted"),
        ({"model": MODEL, "input": "a", "dimensions": 3}, 422, "validation_error", f"{DIMENSIONS}-dimensional"),
        ({"model": MODEL, "input": []}, 400, "empty", "must not be empty"),
        ({"input": "a"}, 422, "validation_error", "model"),
    ],
)
def test_client_errors_come_in_openai_shape(
    fake_embed_client: FlaskClient, body: object, status: int, code: str, message: str
) -> None:
    found, answer = _post(fake_embed_client, body)
    assert found == status, answer
    assert set(answer) == {"error"} and answer["error"]["code"] == code, answer
    assert answer["error"]["type"] == "invalid_request_error" and message in answer["error"]["message"], answer


def test_the_dimensions_of_the_model_itself_are_accepted(fake_embed_client: FlaskClient) -> None:
    assert _post(fake_embed_client, {"model": MODEL, "input": "a", "dimensions": DIMENSIONS})[0] == 200


def test_only_embed_serves_the_openai_route(fake_compare_client: FlaskClient) -> None:
    status, answer = _post(fake_compare_client, {"model": MODEL, "input": "a"})
    assert (status, answer["error"]["code"]) == (404, "not_found"), answer  # an OpenAI client gets its shape


@pytest.mark.slow
def test_the_official_openai_python_sdk_gets_embeds_vectors_floats_and_base64() -> None:
    import openai

    goals = ["Improve family engagement through monthly parent workshops", "Reduce staff turnover"]
    with serving("embed", {"SIMFN_API_KEYS": "sdk-key"}) as (_, port):
        ours = get(f"http://127.0.0.1:{port}/", {"texts": goals}, {"X-API-Key": "sdk-key"})[1]
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sdk-key", max_retries=0)
        expected = np.array(ours["embeddings"], np.float32)  # type: ignore[index]
        for encoding in ("float", "base64"):
            answer = client.embeddings.create(model=MODEL, input=goals, encoding_format=encoding)
            got: list[Any] = [item.embedding for item in answer.data]
            if encoding == "base64":  # the SDK hands base64 back undecoded when the caller asked for it
                got = [np.frombuffer(base64.b64decode(item), "<f4") for item in got]
            np.testing.assert_array_equal(np.array(got, np.float32), expected)
            assert answer.usage.prompt_tokens == answer.usage.total_tokens > 2 * len(goals)
        default = client.embeddings.create(model=MODEL, input=goals[0])  # the SDK asks for base64 and decodes
        np.testing.assert_array_equal(np.array(default.data[0].embedding, np.float32), expected[0])
        with pytest.raises(openai.UnprocessableEntityError, match="all-MiniLM-L6-v2"):
            client.embeddings.create(model="text-embedding-3-small", input="a")
