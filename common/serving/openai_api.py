"""The OpenAI embeddings API, served by embed at POST /v1/embeddings: its request, its answer, its errors.

The shape is OpenAI's (as text-embeddings-inference and infinity serve it), so the official SDKs, which ask for
`encoding_format: "base64"` unless told otherwise, and the frameworks built on them work unchanged. The key
goes as `Authorization: Bearer` (the SDKs' way) or X-API-Key; `model` must be an allow-listed id.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, model_validator

from common.serving.errors import ApiError
from common.serving.schemas import NonEmpty, Request, Response, Text
from common.vectors import Matrix

PATH = "/v1/embeddings"


class EmbeddingsRequest(Request):
    input: Text | Annotated[list[Text], NonEmpty]
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, Field(ge=1)] | None = None
    user: Annotated[str, Field(max_length=256)] | None = None  # accepted, as OpenAI's is, and not used

    @model_validator(mode="before")
    @classmethod
    def _no_token_ids(cls, body: Any) -> Any:
        if isinstance(body, dict):
            value = body.get("input")
            first = value[0] if isinstance(value, list) and value else None
            if isinstance(first, int) or isinstance(first, list):
                raise ValueError("input as token ids is not accepted: send the text (a string or a list of strings)")
        return body

    @property
    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else self.input

    def item_count(self, dimensions: int) -> int:
        return len(self.texts)


class EmbeddingsResponse(Response):
    model: str
    vectors: Any  # the float32 matrix
    encoding_format: str
    tokens: int

    def to_json(self) -> bytes:
        vectors: Matrix = self.vectors
        if self.encoding_format == "base64":
            rows: list[Any] = [base64.b64encode(row.astype("<f4").tobytes()).decode() for row in vectors]
        else:
            rows = list(vectors)
        data = [{"object": "embedding", "index": index, "embedding": row} for index, row in enumerate(rows)]
        usage = {"prompt_tokens": self.tokens, "total_tokens": self.tokens}
        body = {"object": "list", "data": data, "model": self.model, "usage": usage}
        return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def check_dimensions(request: EmbeddingsRequest, dimensions: int) -> None:
    """`dimensions` may only restate the model's own: its vectors are not trained to be cut short."""
    if request.dimensions is not None and request.dimensions != dimensions:
        message = (
            f"dimensions: {request.model} has {dimensions}-dimensional vectors and cannot give {request.dimensions}"
        )
        raise ApiError(422, "validation_error", message)


def _kind(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_body(error: ApiError) -> str:
    """OpenAI's error shape; `code` is our error_type."""
    detail = {"message": error.message, "type": _kind(error.status), "param": None, "code": error.error_type}
    return orjson.dumps({"error": detail}).decode()
