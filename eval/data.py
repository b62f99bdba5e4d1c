"""Loaders for the public dev data: STS-B, MRPC, Banking77 and the real goal texts. Paths are always given."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pairs:
    first: list[str]
    second: list[str]
    labels: list[float]  # STS-B: gold similarity 0-5; MRPC: 1 paraphrase, 0 not


def stsb(folder: Path, split: str = "dev") -> Pairs:
    """STS Benchmark: tab-separated genre, file, years, id, score, s1, s2 (+ optional extra source fields)."""
    pairs = Pairs([], [], [])
    with (folder / "stsb" / f"sts-{split}.csv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            pairs.labels.append(float(row[4]))
            pairs.first.append(row[5])
            pairs.second.append(row[6])
    return pairs


def mrpc(folder: Path) -> Pairs:
    """MRPC train: UTF-8 with BOM, tab-separated, header Quality, #1 ID, #2 ID, #1 String, #2 String."""
    pairs = Pairs([], [], [])
    with (folder / "mrpc" / "msr_paraphrase_train.txt").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            pairs.labels.append(float(row["Quality"]))
            pairs.first.append(row["#1 String"])
            pairs.second.append(row["#2 String"])
    return pairs


def banking77(folder: Path) -> tuple[list[str], list[str]]:
    """Banking77 train: texts and their intent (the gold clusters)."""
    with (folder / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], [row["category"] for row in rows]


def goals(folder: Path) -> list[str]:
    """The real goal texts, in file order (duplicates kept)."""
    with (folder / "ttadp" / "goals.csv").open(encoding="utf-8", newline="") as handle:
        return [row["goal"] for row in csv.DictReader(handle)]
