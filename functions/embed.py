"""embed: texts → unit vectors from the service's model, in input order.

POST / {"texts": ["Improve family engagement"]}
→ {"model": "all-MiniLM-L6-v2", "dimensions": 384, "embeddings": [[0.0123, ...]]}
With "encoding_format": "base64", embeddings is one base64 string of float32 rows. POST /v1/embeddings is the
OpenAI embeddings API (common/serving/openai_api.py).
"""

from __future__ import annotations

from typing import Annotated

import flask
import functions_framework
import orjson

from common.runtime import Runtime
from common.serving import openai_api
from common.serving.pipeline import handle
from common.serving.schemas import EncodingFormat, ModelName, NonEmpty, Request, Response, Text
from common.vectors import to_base64


class EmbedRequest(Request):
    texts: Annotated[list[Text], NonEmpty]
    model: ModelName = None
    encoding_format: EncodingFormat = "float"

    def item_count(self, dimensions: int) -> int:
        return len(self.texts)


class EmbedResponse(Response):
    model: str
    dimensions: int
    embeddings: list[list[float]] | str

    def to_json(self) -> bytes:
        # orjson writes float32 rows directly, each number the shortest text that reads back to the same
        # float32: ~5x faster than pydantic's float64 digits and ~45% fewer bytes, same JSON shape.
        return orjson.dumps(self.__dict__, option=orjson.OPT_SERIALIZE_NUMPY)


def run_embed(request: EmbedRequest, runtime: Runtime) -> EmbedResponse:
    encoder = runtime.models.get(request.model)
    vectors = encoder.encode(request.texts)
    embeddings = to_base64(vectors) if request.encoding_format == "base64" else vectors
    # Built without validation: embeddings stays the float32 matrix until to_json writes it.
    return EmbedResponse.model_construct(model=encoder.model_id, dimensions=encoder.dimensions, embeddings=embeddings)


def run_openai(request: openai_api.EmbeddingsRequest, runtime: Runtime) -> openai_api.EmbeddingsResponse:
    encoder = runtime.models.get(request.model)
    openai_api.check_dimensions(request, encoder.dimensions)
    vectors = encoder.encode(request.texts)
    return openai_api.EmbeddingsResponse.model_construct(
        model=encoder.model_id,
        vectors=vectors,
        encoding_format=request.encoding_format,
        tokens=encoder.engine.count_tokens(request.texts),
    )


@functions_framework.http
def embed(request: flask.Request) -> flask.Response:
    if request.path.rstrip("/") == openai_api.PATH:
        return handle(request, "embed", openai_api.EmbeddingsRequest, run_openai)
    return handle(request, "embed", EmbedRequest, run_embed)
