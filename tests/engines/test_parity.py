"""Exact model quality: every vector within cosine 0.9999 of the sentence-transformers reference."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from common.config import Settings
from common.engines.base import Engine
from common.models import load_engine
from tools.corpus import varied_texts

pytestmark = pytest.mark.slow
PARITY = 0.9999
TEXTS = varied_texts()


@pytest.fixture(scope="module")
def reference() -> NDArray[np.float32]:
    return _engine("sentence-transformers").encode(TEXTS)


def _engine(backend: str, precision: str = "auto") -> Engine:
    settings = Settings.from_environ({"SIMFN_BACKEND": backend, "SIMFN_PRECISION": precision})
    return load_engine(settings.model_dirs[settings.model], settings)


def _worst(vectors: NDArray[np.float32], reference: NDArray[np.float32]) -> tuple[float, str]:
    cosines = np.sum(vectors * reference, axis=1)
    worst = int(np.argmin(cosines))
    return float(cosines[worst]), TEXTS[worst][:60]


def test_corpus_is_varied() -> None:
    long_texts = [text for text in TEXTS if len(text.split()) > 300]
    assert len(TEXTS) >= 500 and len(long_texts) >= 20
    assert any(not text.isascii() for text in TEXTS)


@pytest.mark.parametrize(("backend", "precision"), [("openvino", "auto"), ("openvino", "f32"), ("onnxruntime", "auto")])
def test_engine_matches_reference(backend: str, precision: str, reference: NDArray[np.float32]) -> None:
    worst, text = _worst(_engine(backend, precision).encode(TEXTS), reference)
    assert worst >= PARITY, f"{backend}/{precision}: cosine {worst:.6f} for {text!r}"


def test_default_engine_vectors_do_not_depend_on_the_batch(reference: NDArray[np.float32]) -> None:
    engine = _engine("openvino")
    one_by_one = np.vstack([engine.encode([text]) for text in TEXTS[:64]])
    worst, text = _worst(one_by_one, reference[: len(one_by_one)])
    assert worst >= PARITY, f"alone: cosine {worst:.6f} for {text!r}"


def test_vectors_are_unit_length() -> None:
    norms = np.linalg.norm(_engine("openvino").encode(TEXTS), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5), f"norms from {norms.min()} to {norms.max()}"
