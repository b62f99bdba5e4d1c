"""The tokenize → run loop shared by the engines that run the exported graph."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
# measured with OpenVINO bf16, +17 MB at 1,024 tokens, +40 MB at 2,048, +77 MB at 4,096. 768 (three texts of
# 256 tokens, or 32 goals): embed 8 MB lower than at 1,024 with 16 small clients beside two of its largest requests.
MAX_BATCH_TOKENS = 768
# An engine call's padded size may be at most this multiple of its real tokens. Measured on real goals
# (bench.report --goals): 1.25 beat both 1.125 (more, smaller calls) and no bound (more padding).
MAX_PADDING = 1.25


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
        width_step: int = 1,
    ) -> None:
        # Each engine call is padded here, to its own longest text (see _batches).
        self._pad_id = tokenizer.padding["pad_id"] if tokenizer.padding else 0
        tokenizer.no_padding()
        # Rounded widths never pass the model's length (e.g. XLM-R's 514 positions).
        self._max_width = tokenizer.truncation["max_length"] if tokenizer.truncation else None
        self._tokenizer = tokenizer
        self._infer = infer
        self._batch_size = batch_size
        self._lower_case = lower_case
        self._width_step = width_step
        self.dimensions = dimensions
        self.description = description

    def encode(self, texts: Sequence[str]) -> Matrix:
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for batch, ids, mask in self.calls(texts):
            cutoff.check()
            vectors[batch] = self._infer(ids, mask)
        return vectors

    def calls(self, texts: Sequence[str]) -> Iterator[tuple[list[int], TokenIds, TokenIds]]:
        """The engine calls encode makes: each one's text indices, padded token ids and attention mask."""
        tokens = self._tokenize(texts)
        lengths = [len(row) for row in tokens]
        for batch in self._batches(lengths):
            step = self._width_step
            width = min(-(-lengths[batch[-1]] // step) * step, self._max_width or 1 << 30)
            ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                ids[row, : lengths[index]] = tokens[index]
                mask[row, : lengths[index]] = 1
            yield batch, ids, mask

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(row) for row in self._tokenize(texts))

    def _tokenize(self, texts: Sequence[str]) -> list[TokenIds]:
        """Each text's token ids, truncated; a few texts at a time, keeping only the ids.

        A tokenizer Encoding keeps far more than its ids (tokens, offsets, and the truncated rest of the text):
        240 texts of 8,192 characters tokenized at once held ~36 MB; in slices of a batch, ~5 MB.
        """
        if self._lower_case:  # as sentence-transformers does for a model saved with do_lower_case
            texts = [text.lower() for text in texts]
        ids: list[TokenIds] = []
        for start in range(0, len(texts), self._batch_size):
            encodings = self._tokenizer.encode_batch(list(texts[start : start + self._batch_size]))
            ids += [np.array(encoding.ids, dtype=np.int64) for encoding in encodings]
        return ids

    def _batches(self, lengths: Sequence[int]) -> Iterator[list[int]]:
        """Indices by token count, cut so each engine call pads little and stays within its token budget.

        Padding is compute spent on nothing (on real goals of 20-400 characters, batches of 32 padded to
        their longest member did ~2.5x the useful arithmetic); a call ends when the next text would take
        its padded size past MAX_PADDING of its real tokens, past MAX_BATCH_TOKENS, or past the batch size.
        """
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        batch: list[int] = []
        tokens = 0
        for index in order:
            length = lengths[index]
            rows = len(batch) + 1
            if batch and (
                rows > self._batch_size
                or rows * length > MAX_BATCH_TOKENS
                or rows * length > MAX_PADDING * (tokens + length)
            ):
                yield batch
                batch, tokens = [], 0
            batch.append(index)
            tokens += length
        if batch:
            yield batch


def graph_engine(
    artifact: Artifact, infer: Infer, batch_size: int, description: str, width_step: int = 1
) -> GraphEngine:
    """The loop around a backend's infer function, set up from the artifact's own configuration.

    width_step: each call's width is rounded up to a multiple of it (1: exact, the longest text's tokens).
    """
    tokenizer = load_tokenizer(artifact.tokenizer_path, artifact.max_seq_length, artifact.pad_token)
    return GraphEngine(tokenizer, infer, artifact.dimensions, batch_size, description, artifact.lower_case, width_step)
