from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.config import Settings
from common.engines.graph import MAX_BATCH_TOKENS, MAX_PADDING, GraphEngine, TokenIds, load_tokenizer
from common.vectors import Matrix


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


def test_graph_engine_splits_a_batch_of_long_texts_to_bound_tokens_per_call() -> None:
    shapes: list[tuple[int, ...]] = []

    def infer(ids: TokenIds, mask: TokenIds) -> Matrix:
        shapes.append(ids.shape)
        return np.repeat(mask.sum(axis=1, keepdims=True), 2, axis=1).astype(np.float32)

    texts = [f"{index} " + "word " * 300 for index in range(40)] + ["short"]
    vectors = GraphEngine(load_tokenizer(_tokenizer_path(), 256), infer, 2, 32, "t").encode(texts)
    assert all(rows * width <= MAX_BATCH_TOKENS for rows, width in shapes), shapes
    assert vectors[:, 0].tolist() == [256] * 40 + [3]


@pytest.mark.parametrize("width_step", [1, 8])  # ONNX Runtime's exact widths, OpenVINO's rounded ones
def test_graph_engine_pads_each_call_little_and_masks_only_the_padding(width_step: int) -> None:
    calls: list[tuple[TokenIds, TokenIds]] = []

    def infer(ids: TokenIds, mask: TokenIds) -> Matrix:
        calls.append((ids, mask))
        return np.repeat(mask.sum(axis=1, keepdims=True), 2, axis=1).astype(np.float32)

    tokenizer = load_tokenizer(_tokenizer_path(), 256)
    texts = [" ".join(["word"] * (1 + (index * 7) % 60)) for index in range(64)]  # 3 to 62 tokens, mixed
    vectors = GraphEngine(tokenizer, infer, 2, 32, "t", width_step=width_step).encode(texts)
    assert vectors[:, 0].tolist() == [len(text.split()) + 2 for text in texts]  # [CLS] words [SEP]
    for ids, mask in calls:
        rows, width = ids.shape
        longest = int(mask.sum(axis=1).max())
        assert width == -(-longest // width_step) * width_step, (width, longest)
        assert rows == 1 or rows * longest <= MAX_PADDING * mask.sum(), (rows, longest, int(mask.sum()))
        assert (ids[mask == 0] == tokenizer.token_to_id("[PAD]")).all()
    assert len(calls) < len(texts) // 4, "texts of similar length should share calls"


def test_graph_engine_never_pads_past_the_models_length() -> None:
    widths: list[int] = []

    def infer(ids: TokenIds, mask: TokenIds) -> Matrix:
        widths.append(ids.shape[1])
        return np.zeros((len(ids), 2), dtype=np.float32)

    GraphEngine(load_tokenizer(_tokenizer_path(), 13), infer, 2, 32, "t", width_step=8).encode(["word " * 40])
    assert widths == [13]  # 13 tokens would round up to 16: past the positions a model of length 13 has
