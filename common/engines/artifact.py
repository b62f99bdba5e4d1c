"""The exported model artifact: its provenance file and the checksum check made before loading it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROVENANCE_FILE = "provenance.json"
MODEL_FILE = "model.onnx"
# The same graph as OpenVINO IR with fp16-compressed weights: OpenVINO holds ~90 MB less than from the ONNX file.
IR_FILE = "model.xml"
IR_WEIGHTS_FILE = "model.bin"
TOKENIZER_FILE = "tokenizer.json"
REQUIRED_FILES = (MODEL_FILE, IR_FILE, IR_WEIGHTS_FILE, TOKENIZER_FILE)


class ArtifactError(RuntimeError):
    """The artifact is missing, incomplete or does not match its recorded checksums."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Artifact:
    """A verified artifact folder: model graph, tokenizer and what they were made from."""

    folder: Path
    dimensions: int
    max_seq_length: int
    provenance: dict[str, Any]

    @property
    def model_path(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def ir_path(self) -> Path:
        return self.folder / IR_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.folder / TOKENIZER_FILE

    @property
    def pad_token(self) -> str:
        return str(self.provenance.get("pad_token", "[PAD]"))

    @property
    def lower_case(self) -> bool:
        """The model lower-cases texts before tokenizing (sentence_bert_config.json's do_lower_case)."""
        return bool(self.provenance.get("do_lower_case", False))

    def passed(self, engine: str) -> bool:
        """Whether `engine` (e.g. "openvino bf16") was measured at export and reached the parity floor."""
        parity = self.provenance.get("parity", {})
        worst = parity.get("worst_cosine", {}).get(engine)
        return worst is not None and worst >= parity.get("floor", 1.0)


def peek(folder: Path) -> dict[str, Any]:
    """The provenance record as written, unchecked (for GET /info); {} if there is none or it is unreadable."""
    try:
        record: dict[str, Any] = json.loads((folder / PROVENANCE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record


def verify(folder: Path) -> Artifact:
    """Check every file listed in the provenance against its sha256; raise ArtifactError on any difference."""
    record = folder / PROVENANCE_FILE
    if not record.is_file():
        raise ArtifactError(f"no model artifact at {folder}: build it with `python -m tools.export`")
    try:
        provenance = json.loads(record.read_text())
        files: dict[str, str] = provenance["files"]
        dimensions, max_seq_length = int(provenance["dimensions"]), int(provenance["max_seq_length"])
    except (ValueError, KeyError, TypeError) as error:
        raise ArtifactError(f"{record} is not a valid provenance record ({error!r})") from None
    for name in REQUIRED_FILES:
        if name not in files:
            raise ArtifactError(f"{record} lists no checksum for {name}")
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"{path} is missing: rebuild with `python -m tools.export`")
        found = sha256_of(path)
        if found != expected:
            raise ArtifactError(f"{path} is corrupt: sha256 {found}, expected {expected}")
    return Artifact(folder, dimensions, max_seq_length, provenance)
