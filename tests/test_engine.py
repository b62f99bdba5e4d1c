from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import Settings
from common.engine import GraphEngine, Matrix, TokenIds, load_tokenizer


def _tokenizer_path() -> Path:
    settings = Settings()
    return settings.model_dirs[settings.model] / "tokenizer.json"


def test_tokenizer_pads_to_the_longest_text_not_to_128() -> None:
    tokenizer = load_tokenizer(_tokenizer_path(), 256)
    lengths = {len(encoding.ids) for encoding in tokenizer.encode_batch(["short", "a slightly longer text here"])}
    assert lengths == {7}, f"batch padded to {lengths}"


def test_tokenizer_truncates_at_max_length() -> None:
    tokenizer = load_tokenizer(_tokenizer_path(), 256)
    encoding = tokenizer.encode("word " * 1000)
    assert len(encoding.ids) == 256 and encoding.ids[-1] == tokenizer.token_to_id("[SEP]")


def test_graph_engine_returns_rows_in_input_order_across_batches() -> None:
    def infer(ids: TokenIds, mask: TokenIds) -> Matrix:
        # Each row encodes its own token count, so a row in the wrong place shows.
        return np.repeat(mask.sum(axis=1, keepdims=True), 2, axis=1).astype(np.float32)

    tokenizer = load_tokenizer(_tokenizer_path(), 256)
    texts = ["one two three four", "one", "one two", "one two three", "one two three four five"]
    vectors = GraphEngine(tokenizer, infer, 2, batch_size=2, description="t").encode(texts)
    assert vectors[:, 0].tolist() == [6, 3, 4, 5, 7]
