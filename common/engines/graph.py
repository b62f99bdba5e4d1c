"""The tokenize → run loop shared by the engines that run the exported graph."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from common import cutoff
from common.engines.artifact import Artifact
from common.vectors import Matrix

TokenIds = NDArray[np.int64]
Infer = Callable[[TokenIds, TokenIds], Matrix]
# At most this many tokens (padding included) per engine call: a batch of long texts is split, which bounds
# the engine's buffers without changing any vector. Each infer request keeps its largest call's buffers:
# measured with OpenVINO bf16, +17 MB at 1,024 tokens, +40 MB at 2,048, +77 MB at 4,096.
MAX_BATCH_TOKENS = 1024


def load_tokenizer(path: Path, max_length: int, pad_token: str = "[PAD]") -> Tokenizer:
    """The model's tokenizer, truncating at max_length and padding each batch to its longest text only.

    A shipped tokenizer.json may pad every input to a fixed length (MiniLM's: 128 tokens); padding to the
    longest text in the batch gives the same vectors (padding is masked) for a fraction of the compute.
    """
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise ValueError(f"{path} has no {pad_token} token")
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tokenizer


class GraphEngine:
    """Runs an exported graph (input_ids, attention_mask → unit sentence vectors) over length-sorted batches."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        infer: Infer,
        dimensions: int,
        batch_size: int,
        description: str,
        lower_case: bool = False,
    ) -> None:
        self._tokenizer = tokenizer
        self._infer = infer
        self._batch_size = batch_size
        self._lower_case = lower_case
        self.dimensions = dimensions
        self.description = description

    def encode(self, texts: Sequence[str]) -> Matrix:
        if self._lower_case:  # as sentence-transformers does for a model saved with do_lower_case
            texts = [text.lower() for text in texts]
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        # Texts of similar length share a batch, so little compute goes to padding.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            encodings = self._tokenizer.encode_batch([texts[index] for index in batch])
            ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
            mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
            rows = max(1, MAX_BATCH_TOKENS // ids.shape[1])
            for part in range(0, len(batch), rows):
                cutoff.check()
                vectors[batch[part : part + rows]] = self._infer(ids[part : part + rows], mask[part : part + rows])
        return vectors


def graph_engine(artifact: Artifact, infer: Infer, batch_size: int, description: str) -> GraphEngine:
    """The loop around a backend's infer function, set up from the artifact's own configuration."""
    tokenizer = load_tokenizer(artifact.tokenizer_path, artifact.max_seq_length, artifact.pad_token)
    return GraphEngine(tokenizer, infer, artifact.dimensions, batch_size, description, artifact.lower_case)
