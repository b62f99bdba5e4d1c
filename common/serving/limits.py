"""Every per-request limit, in one place: defaults here, item and byte limits overridable per app.

Each limit is checked before the work it bounds: the declared body size before a byte is read, the number of
JSON values before parsing (every value, number or string, costs ~65 bytes once parsed), items and vector
dimensions right after parsing, before any encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.config import Settings

# A goal is a sentence or a paragraph; the model reads the first 256 tokens (~1,000-1,500 characters).
MAX_TEXT_CHARS = 8192
# A vector is checked against the chosen model's dimension after parsing; this caps what parsing may build.
MAX_VECTOR_VALUES = 4096
# A request with a declared body this small (a few goals) may take a small request's slot (serving.admission).
SMALL_BODY_BYTES = 4096


@dataclass(frozen=True)
class Limits:
    items: int
    body_bytes: int
    json_values: int
    pairs: int = 100_000  # all-pairs compare's answer; ~200 bytes a pair while it is built


# Items: texts for embed; candidates or all-pairs texts for compare; texts, items or vectors for cluster.
# compare's body fits its 5,000 items as stored base64 vectors (10.3 MB at 384 dimensions); cluster's, 10,000.
# JSON values bound parsing memory by construction (~65 bytes each): embed 4 MB, compare 17 MB, cluster 104 MB.
# cluster's values fit 2,500 stored 384-d vectors as JSON (~65 MB to parse; more go as base64); 10,000 goals
# need ~50,000. Its body fits those vectors as embed writes them (~12 bytes a number) or 10,000 long goals.
DEFAULTS = {
    "embed": Limits(items=256, body_bytes=2_000_000, json_values=65_536),
    "compare": Limits(items=5_000, body_bytes=12_000_000, json_values=262_144),
    "cluster": Limits(items=10_000, body_bytes=21_000_000, json_values=1_000_000),
}
FALLBACK = DEFAULTS["embed"]


def limits_for(function: str, settings: Settings) -> Limits:
    """The function's limits, with the app's overrides (SIMFN_MAX_ITEMS, _BODY_BYTES, _PAIRS) applied."""
    default = DEFAULTS.get(function, FALLBACK)
    return Limits(
        items=settings.max_items or default.items,
        body_bytes=settings.max_body_bytes or default.body_bytes,
        json_values=default.json_values,
        pairs=settings.max_pairs or default.pairs,
    )


def json_values_at_most(body: bytes) -> int:
    """An upper bound on the values and keys in a JSON body, counted without parsing it.

    Every value but the first follows a `[`, `,` or `:`, every key a `{` or `,`; the same characters inside
    strings only make the bound looser. Four passes in C: ~10 ms for the largest body.
    """
    return 1 + body.count(b"[") + body.count(b"{") + body.count(b",") + body.count(b":")
