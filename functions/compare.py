"""compare: how similar texts are — one pair, one query against candidates, or all pairs above a threshold.

POST / {"text_1": "Hold parent workshops", "text_2": "Run workshops for parents"} → {"similarity": 0.83}
POST / {"query": "Hold parent workshops", "candidates": ["Run workshops for parents"], "top_k": 5}
→ {"matches": [{"index": 0, "similarity": 0.83}]}
POST / {"texts": ["a", "b", "c"], "threshold": 0.8}
→ {"threshold": 0.8, "pairs": [{"i": 0, "j": 2, "similarity": 0.91}]}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

import flask
import functions_framework
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from common.encoder import Encoder
from common.runtime import Runtime
from common.serving.limits import limits_for
from common.serving.pipeline import handle
from common.serving.schemas import (
    ItemId,
    ManyVectors,
    ModelName,
    NonEmpty,
    OneVector,
    Request,
    Response,
    ReviewThreshold,
    Text,
    TextItem,
    Threshold,
    Verdict,
    vector_count,
)
from common.similarity import TOLERANCE, band, cosine, pairs_above, rank
from common.vectors import Matrix, unit_rows

MODE_FIELDS = {
    "pair": {"text_1", "text_2"},
    "query": {"query", "query_embedding", "candidates"},
    "all_pairs": {"texts", "embeddings"},
}


class PairRequest(Request):
    text_1: Text
    text_2: Text
    # Sent by the existing Node client with every pair request; accepted and ignored.
    recipient_id: ItemId | None = None
    cluster: Literal[False] = False
    model: ModelName = None


class VectorCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: ItemId
    embedding: OneVector


Candidate = Text | TextItem | VectorCandidate


class QueryRequest(Request):
    query: Text | None = None
    query_embedding: OneVector | None = None
    candidates: Annotated[list[Candidate], NonEmpty]
    top_k: Annotated[int, Field(ge=1)] | None = None
    threshold: Threshold | None = None
    review_threshold: ReviewThreshold | None = None
    model: ModelName = None

    @model_validator(mode="after")
    def _one_query(self) -> Self:
        self._exactly_one("query", "query_embedding")
        return self

    def item_count(self, dimensions: int) -> int:
        return len(self.candidates)


class AllPairsRequest(Request):
    texts: Annotated[list[Text], NonEmpty] | None = None
    embeddings: ManyVectors | None = None
    threshold: Threshold | None = None
    review_threshold: ReviewThreshold | None = None
    model: ModelName = None

    @model_validator(mode="after")
    def _one_input(self) -> Self:
        self._exactly_one("texts", "embeddings")
        return self

    def item_count(self, dimensions: int) -> int:
        return len(self.texts or ()) or vector_count(self.embeddings, dimensions)


def _mode(body: Any) -> str | None:
    """The one mode whose fields the body uses; None for none or a mix (a 422)."""
    if isinstance(body, BaseModel):
        body = body.model_fields_set
    modes = [mode for mode, fields in MODE_FIELDS.items() if isinstance(body, dict | set) and fields & set(body)]
    return modes[0] if len(modes) == 1 else None


CompareRequest = Annotated[
    Annotated[PairRequest, Tag("pair")]
    | Annotated[QueryRequest, Tag("query")]
    | Annotated[AllPairsRequest, Tag("all_pairs")],
    Discriminator(
        _mode,
        custom_error_type="invalid_mode",
        custom_error_message="use exactly one mode: text_1 and text_2; query or query_embedding with candidates;"
        " or texts or embeddings",
    ),
]


class PairResponse(Response):
    similarity: float


class Match(Response):
    index: int
    id: ItemId | None = None
    similarity: float
    verdict: Verdict | None = None


class QueryResponse(Response):
    matches: list[Match]


class Pair(Response):
    i: int
    j: int
    similarity: float
    verdict: Verdict | None = None


class AllPairsResponse(Response):
    threshold: float
    pairs: list[Pair]


def _candidate_vectors(candidates: list[Candidate], encoder: Encoder) -> Matrix:
    """Candidates' unit vectors: texts encoded together, stored vectors checked and normalized."""
    vectors = np.empty((len(candidates), encoder.dimensions), dtype=np.float32)
    texts = {
        i: c if isinstance(c, str) else c.text for i, c in enumerate(candidates) if not isinstance(c, VectorCandidate)
    }
    if texts:
        vectors[list(texts)] = encoder.encode(list(texts.values()))
    stored = {i: c.embedding for i, c in enumerate(candidates) if isinstance(c, VectorCandidate)}
    if stored:
        vectors[list(stored)] = unit_rows(list(stored.values()), encoder.dimensions, "candidates[].embedding")
    return vectors


def _pair(request: PairRequest, encoder: Encoder) -> PairResponse:
    first, second = encoder.encode([request.text_1, request.text_2])
    return PairResponse(similarity=cosine(first, second))


def _query(request: QueryRequest, encoder: Encoder, default_threshold: float) -> QueryResponse:
    query_embeddings = None if request.query_embedding is None else [request.query_embedding]
    query = encoder.vectors(request.query and [request.query], query_embeddings, "query_embedding")[0]
    # With a review band, the duplicate threshold decides the verdicts, and the band's lower end what is shown.
    threshold = request.threshold
    if threshold is None and request.review_threshold is not None:
        threshold = default_threshold
    lowest = None if threshold is None else band(threshold, request.review_threshold)
    indices, scores = rank(query, _candidate_vectors(request.candidates, encoder), lowest, request.top_k)
    ids = [None if isinstance(c, str) else c.id for c in request.candidates]
    marks = _verdicts(scores, threshold, request.review_threshold)
    matches = [
        Match(index=int(i), id=ids[i], similarity=float(s), verdict=v)
        for i, s, v in zip(indices, scores, marks, strict=True)
    ]
    return QueryResponse(matches=matches)


def _all_pairs(request: AllPairsRequest, encoder: Encoder, threshold: float, max_pairs: int) -> AllPairsResponse:
    vectors = encoder.vectors(request.texts, request.embeddings, "embeddings")
    i, j, scores = pairs_above(vectors, band(threshold, request.review_threshold), max_pairs)
    marks = _verdicts(scores, threshold, request.review_threshold)
    pairs = [
        Pair(i=int(a), j=int(b), similarity=float(s), verdict=v) for a, b, s, v in zip(i, j, scores, marks, strict=True)
    ]
    return AllPairsResponse(threshold=threshold, pairs=pairs)


def _verdicts(scores: NDArray[np.float32], threshold: float | None, review: float | None) -> list[Verdict | None]:
    """Each score's verdict when there is a review band: `duplicate` at or above threshold, else `possible`."""
    if review is None or threshold is None:
        return [None] * len(scores)
    return ["duplicate" if score >= threshold - TOLERANCE else "possible" for score in scores.tolist()]


def run_compare(
    request: PairRequest | QueryRequest | AllPairsRequest, runtime: Runtime
) -> PairResponse | QueryResponse | AllPairsResponse:
    encoder = runtime.models.get(request.model)
    if isinstance(request, PairRequest):
        return _pair(request, encoder)
    if isinstance(request, QueryRequest):
        return _query(request, encoder, runtime.settings.thresholds(request.model).duplicate)
    default = runtime.settings.thresholds(request.model).duplicate
    threshold = default if request.threshold is None else request.threshold
    return _all_pairs(request, encoder, threshold, limits_for("compare", runtime.settings).pairs)


@functions_framework.http
def compare(request: flask.Request) -> flask.Response:
    return handle(request, "compare", CompareRequest, run_compare)
