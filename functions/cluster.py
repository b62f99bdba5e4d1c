"""cluster: texts, items or stored vectors → groups of near-duplicates (largest first, singletons left out).

POST / {"texts": ["Hold parent workshops", "Run workshops for parents", "Improve attendance"]}
→ {"threshold": 0.8, "clusters": [{"members": [0, 1], "representative": 0, "size": 2}]}
With "review_threshold": 0.6, each cluster also has a "verdict" and one per member in "verdicts".
"""

from __future__ import annotations

from typing import Annotated, Self

import flask
import functions_framework
from pydantic import Field, model_validator

from common.clustering import Group, community_groups
from common.runtime import Runtime
from common.serving.pipeline import handle
from common.serving.schemas import (
    ItemId,
    ManyVectors,
    ModelName,
    NonEmpty,
    Request,
    Response,
    ReviewThreshold,
    Text,
    TextItem,
    Threshold,
    Verdict,
    vector_count,
)
from common.similarity import band


class ClusterRequest(Request):
    texts: Annotated[list[Text], NonEmpty] | None = None
    items: Annotated[list[TextItem], NonEmpty] | None = None
    embeddings: ManyVectors | None = None
    threshold: Threshold | None = None
    review_threshold: ReviewThreshold | None = None
    min_cluster_size: Annotated[int, Field(ge=2)] = 2
    model: ModelName = None

    @model_validator(mode="after")
    def _one_input(self) -> Self:
        self._exactly_one("texts", "items", "embeddings")
        return self

    def item_count(self, dimensions: int) -> int:
        return len(self.texts or self.items or ()) or vector_count(self.embeddings, dimensions)


class Cluster(Response):
    members: list[int]
    ids: list[ItemId] | None = None
    representative: int
    size: int
    # With a review band: `possible` if no two members reach the threshold; each member's own verdict.
    verdict: Verdict | None = None
    verdicts: list[Verdict] | None = None


class ClusterResponse(Response):
    threshold: float
    clusters: list[Cluster]


def run_cluster(request: ClusterRequest, runtime: Runtime) -> ClusterResponse:
    encoder = runtime.models.get(request.model)
    texts = request.texts if request.items is None else [item.text for item in request.items]
    vectors = encoder.vectors(texts, request.embeddings, "embeddings")
    default = runtime.settings.thresholds(request.model).cluster
    threshold = default if request.threshold is None else request.threshold
    band(threshold, request.review_threshold)  # a review threshold above the threshold is refused (422)
    groups = community_groups(vectors, threshold, request.min_cluster_size, request.review_threshold)
    ids = [item.id for item in request.items] if request.items is not None else None
    clusters = [_cluster(group, ids, request.review_threshold is not None) for group in groups]
    return ClusterResponse(threshold=threshold, clusters=clusters)


def _cluster(group: Group, ids: list[ItemId] | None, banded: bool) -> Cluster:
    possible = set(group.possible)
    marks: list[Verdict] = ["possible" if m in possible else "duplicate" for m in group.members]
    return Cluster(
        members=group.members,
        ids=[ids[m] for m in group.members] if ids is not None else None,
        representative=group.representative,
        size=len(group.members),
        verdict=("duplicate" if "duplicate" in marks else "possible") if banded else None,
        verdicts=marks if banded else None,
    )


@functions_framework.http
def cluster(request: flask.Request) -> flask.Response:
    return handle(request, "cluster", ClusterRequest, run_cluster)
