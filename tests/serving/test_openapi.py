from __future__ import annotations

from typing import Any

import pytest

from common.serving.app import TARGETS, create_app
from common.serving.openapi import ERROR_STATUSES


def _document(target: str) -> Any:
    response = create_app(target).test_client().get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json


@pytest.mark.parametrize("target", TARGETS)
def test_openapi_documents_every_status_and_error_type(target: str) -> None:
    document = _document(target)
    assert set(document["paths"]["/"]["post"]["responses"]) == {"200", *ERROR_STATUSES}
    error_types = document["components"]["schemas"]["ErrorBody"]["properties"]["error_type"]["enum"]
    assert {"overloaded", "payload_too_large", "too_many_items", "unauthorized"} <= set(error_types)


def test_openapi_states_the_limits_and_the_request_schema() -> None:
    post = _document("embed")["paths"]["/"]["post"]
    assert post["description"] == (
        "At most 256 items and 2000000 bytes per request. "
        "Models (`model`): all-MiniLM-L6-v2; all-MiniLM-L6-v2 when a request names none."
    )
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EmbedRequest"}


@pytest.mark.parametrize(
    ("target", "request_schema", "answer"),
    [("compare", "QueryRequest", "Match"), ("cluster", "ClusterRequest", "Cluster")],
)
def test_openapi_documents_the_review_band(target: str, request_schema: str, answer: str) -> None:
    schemas = _document(target)["components"]["schemas"]
    assert "review_threshold" in schemas[request_schema]["properties"], schemas[request_schema]
    assert "verdict" in schemas[answer]["properties"], schemas[answer]
