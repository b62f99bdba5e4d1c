"""Per-request limits of each function: defaults here, overridable per app (each app serves one function)."""

from __future__ import annotations

from dataclasses import dataclass

from common.config import Settings


@dataclass(frozen=True)
class Limits:
    items: int
    body_bytes: int


# Items: texts for embed; candidates or all-pairs texts for compare; texts or vectors for cluster.
# Bodies: 2 MB as in TEI; cluster takes 5,000 stored vectors (~21 bytes per number) or 10,000 texts.
DEFAULTS = {
    "embed": Limits(items=256, body_bytes=2_000_000),
    "compare": Limits(items=5_000, body_bytes=2_000_000),
    "cluster": Limits(items=10_000, body_bytes=64_000_000),
}
FALLBACK = Limits(items=256, body_bytes=2_000_000)


def limits_for(function: str, settings: Settings) -> Limits:
    default = DEFAULTS.get(function, FALLBACK)
    return Limits(settings.max_items or default.items, settings.max_body_bytes or default.body_bytes)
