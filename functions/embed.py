"""embed: texts → unit vectors from the service's model, in input order.

POST / {"texts": ["Improve family engagement"]}
→ {"model": "all-MiniLM-L6-v2", "dimensions": 384, "embeddings": [[0.0123, ...]]}
"""

from __future__ import annotations

from typing import Annotated

import flask
import functions_framework
import orjson

from common.runtime import Runtime
from common.serving.pipeline import handle
from common.serving.schemas import ModelName, NonEmpty, Request, Response, Text


class EmbedRequest(Request):
    texts: Annotated[list[Text], NonEmpty]
    model: ModelName = None

    def item_count(self) -> int:
        return len(self.texts)


class EmbedResponse(Response):
    model: str
    dimensions: int
    embeddings: list[list[float]]

    def to_json(self) -> bytes:
        # orjson writes float32 rows directly, each number the shortest text that reads back to the same
        # float32: ~5x faster than pydantic's float64 digits and ~45% fewer bytes, same JSON shape.
        return orjson.dumps(self.__dict__, option=orjson.OPT_SERIALIZE_NUMPY)


def run_embed(request: EmbedRequest, runtime: Runtime) -> EmbedResponse:
    encoder = runtime.models.get(request.model)
    vectors = encoder.encode(request.texts)
    # Built without validation: embeddings stays the float32 matrix until to_json writes it.
    return EmbedResponse.model_construct(model=encoder.model_id, dimensions=encoder.dimensions, embeddings=vectors)


@functions_framework.http
def embed(request: flask.Request) -> flask.Response:
    return handle(request, "embed", EmbedRequest, run_embed)
