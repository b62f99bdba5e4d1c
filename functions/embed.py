"""embed: texts → unit vectors from the service's model, in input order.

POST / {"texts": ["Improve family engagement"]}
→ {"model": "all-MiniLM-L6-v2", "dimensions": 384, "embeddings": [[0.0123, ...]]}
"""

from __future__ import annotations

from typing import Annotated

import flask
import functions_framework

from common.http import handle
from common.runtime import Runtime
from common.schemas import ModelName, NonEmpty, Request, Response, Text


class EmbedRequest(Request):
    texts: Annotated[list[Text], NonEmpty]
    model: ModelName = None

    def item_count(self) -> int:
        return len(self.texts)


class EmbedResponse(Response):
    model: str
    dimensions: int
    embeddings: list[list[float]]


def run_embed(request: EmbedRequest, runtime: Runtime) -> EmbedResponse:
    encoder = runtime.models.get(request.model)
    vectors = encoder.encode(request.texts)
    return EmbedResponse.model_construct(
        model=encoder.model_id, dimensions=encoder.dimensions, embeddings=vectors.tolist()
    )


@functions_framework.http
def embed(request: flask.Request) -> flask.Response:
    return handle(request, EmbedRequest, run_embed)
