"""Deduplicate a CSV of goals in-process (no server): every input row, with its group and the group's representative.

simfn-dedupe goals.csv --column goal [--id-column id] [--threshold T] [--review-threshold R] --out groups.csv
    [--html report.html] [--vectors goals.vectors.npy] [--model ID] [--neighbours auto|exact|approximate]

Texts equal but for spaces and case are encoded once and marked `exact`; the vectors go to a resumable file, so
an interrupted run, or a second run at another threshold, encodes nothing twice.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from common.clustering import Group, community_groups
from common.config import SettingsError
from common.engines.artifact import peek
from common.models import UnknownModelError
from common.runtime import get_runtime
from common.vectors import Matrix
from tools.neighbour_index import EXACT_UP_TO, PROBES, Indexed, index_for, recall
from tools.table import InputError, Table, read_table
from tools.vector_file import VectorFile, VectorFileError, load

CHUNK = 512
OUTPUT_COLUMNS = (
    "group",
    "group_size",
    "match",
    "representative_row",
    "representative",
    "similarity_to_representative",
)
SURE = ("exact", "duplicate")  # a group with a member of either is a duplicate group (its core has two rows)
T = TypeVar("T")


def read_goals(path: Path, column: str, id_column: str | None) -> Table:
    table = read_table(path, (column, id_column))
    clashes = [name for name in OUTPUT_COLUMNS if name in table.header]
    if clashes:
        raise InputError(f"{path}: already has output column(s) {', '.join(clashes)}; rename them first")
    return table


@dataclass(frozen=True)
class Distinct:
    """The table's texts as distinct texts (same after whitespace and case folding), and the rows of each."""

    texts: list[str]  # each distinct text as its first row has it
    rows: list[list[int]]  # the row numbers of each distinct text, in order

    @property
    def weights(self) -> NDArray[np.int64]:
        return np.array([len(rows) for rows in self.rows], dtype=np.int64)


def normal_form(text: str) -> str:
    return " ".join(text.split()).casefold()


def distinct(table: Table, column: str) -> Distinct:
    nodes: dict[str, int] = {}
    texts: list[str] = []
    rows: list[list[int]] = []
    for number, row in enumerate(table.rows):
        text = (row[column] or "").strip()
        if text:
            node = nodes.setdefault(normal_form(text), len(texts))
            if node == len(texts):
                texts.append(row[column])
                rows.append([])
            rows[node].append(number)
    return Distinct(texts, rows)


def encode(texts: Sequence[str], model: str | None, path: Path) -> Matrix:
    """The texts' vectors in a resumable vector file: only what an earlier run did not write is encoded."""
    encoder = get_runtime().models.get(model)
    key = f"{encoder.model_id} {json.dumps(peek(get_runtime().settings.model_dirs[encoder.model_id]), sort_keys=True)}"
    stored = VectorFile.open(path, hashlib.sha256(key.encode()).hexdigest(), texts, encoder.dimensions)
    done = stored.record.done
    with _bar("encoding", len(texts), "text", initial=done) as progress:
        for start in range(done, len(texts), CHUNK):
            end = min(start + CHUNK, len(texts))
            stored.array[start:end] = encoder.encode(texts[start:end])
            stored.written(end)
            progress.update(end - start)
    return load(path)


def neighbours(vectors: Matrix, weights: NDArray[np.int64], method: str, probes: int = PROBES) -> tuple[Indexed, str]:
    """The distinct texts behind an exact or approximate index, and which (recall is measured after grouping)."""
    approximate = method == "approximate" or (method == "auto" and len(vectors) > EXACT_UP_TO)
    with _bar("indexing", len(vectors), "text") as progress:
        index = index_for(vectors, approximate, probes, progress=progress.update)
    return Indexed(vectors, weights, index), "approximate" if approximate else "exact"


def group_texts(hood: Indexed, threshold: float, review: float | None) -> list[Group]:
    """The groups; the bar counts the degrees' pass over every text (placing them takes the rest of the time)."""
    with _bar("grouping", len(hood), "text") as progress:
        hood.progress = progress.update
        return community_groups(hood, threshold, 2, review)


def assign(table: Table, args: argparse.Namespace, threshold: float, stages: dict[str, float]) -> list[dict[str, str]]:
    """The input rows with the output columns; groups numbered largest first, then singletons."""
    column, id_column = args.column, args.id_column
    texts = distinct(table, column)
    vectors = _timed(stages, "encoding", lambda: encode(texts.texts, args.model, _vector_path(args)))
    hood, how = _timed(stages, "indexing", lambda: neighbours(vectors, texts.weights, args.neighbours, args.probes))
    groups = _timed(stages, "grouping", lambda: group_texts(hood, threshold, args.review_threshold))
    if how == "approximate":
        share, pairs = recall(hood, threshold)
        members = "exact" if hood.exact_near else "from the index too"
        how += (
            f" (IVF-SQ8, hits re-scored exactly: it finds {share:.2%} of the {pairs} pairs ≥ {threshold} of 1,000 "
            f"sampled texts; each group's members {members})"
        )
    weights, rows_of = texts.weights, texts.rows
    print(f"simfn-dedupe: {len(hood)} distinct texts of {int(weights.sum())}; neighbours {how}", file=sys.stderr)
    grouped = {m for group in groups for m in group.members}
    singles = [Group([node], node) for node in range(len(texts.texts)) if node not in grouped]
    # Largest (in rows) first, then by first row; rows of one distinct text are in order, so its first is [0].
    everything = sorted(groups, key=lambda g: (-weights[g.members].sum(), min(rows_of[m][0] for m in g.members)))
    everything += sorted(singles, key=lambda g: rows_of[g.members[0]][0])
    out = [{**row, **dict.fromkeys(OUTPUT_COLUMNS, "")} for row in table.rows]
    for number, group in enumerate(everything, 1):
        centre = rows_of[group.representative][0]
        label = table.rows[centre][id_column] if id_column else str(centre + 1)
        size = int(weights[group.members].sum())
        possible = set(group.possible)
        for node in group.members:
            similarity = f"{float(vectors[node] @ vectors[group.representative]):.4f}"
            for row in rows_of[node]:
                out[row].update(
                    group=str(number),
                    group_size=str(size),
                    match=_match(row, centre, node, group.representative, possible, size),
                    representative_row=label,
                    representative=table.rows[centre][column],
                    similarity_to_representative=similarity,
                )
    return out


def _match(row: int, centre: int, node: int, representative: int, possible: set[int], size: int) -> str:
    if size == 1:
        return "unique"
    if row == centre:
        return "representative"
    if node == representative:
        return "exact"
    return "possible" if node in possible else "duplicate"


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*header, *OUTPUT_COLUMNS])
        writer.writeheader()
        writer.writerows(rows)


def write_html(path: Path, rows: list[dict[str, str]], column: str, id_column: str | None, bounds: str) -> None:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(rows, 1):
        if row["group_size"] and int(row["group_size"]) > 1:
            groups.setdefault(row["group"], []).append((number, row))
    confirmed = {g: m for g, m in groups.items() if any(r["match"] in SURE for _, r in m)}
    to_confirm = {g: m for g, m in groups.items() if g not in confirmed}
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Duplicate goals</title>",
        "<style>body{font:14px sans-serif;max-width:60em;margin:auto}td{padding:2px 8px;vertical-align:top}"
        "h2{font-size:15px;margin-top:2em}.sim{text-align:right;color:#555}.match{font-size:12px}"
        ".possible{color:#a15c00}.exact{color:#555}</style>",
        f"<h1>Duplicate goals</h1><p>{len(rows)} rows; {len(confirmed)} groups of duplicates and {len(to_confirm)} "
        f"of possible duplicates holding {sum(map(len, groups.values()))} rows; {bounds}. <i>exact</i>: the same "
        "text as the representative but for spaces and case; <i>possible</i>: for a person to confirm.</p>",
    ]
    for title, section in (("Duplicates", confirmed), ("Possible duplicates, to confirm", to_confirm)):
        if section:
            parts.append(f"<h1>{title}</h1>")
        for group, members in section.items():
            first = members[0][1]
            parts.append(f"<h2>Group {group}: {len(members)} rows — {html.escape(first['representative'])}</h2>")
            parts.append("<table><tr><th>row</th><th>match</th><th>similarity to representative</th><th>text</th></tr>")
            for row_number, row in members:
                label = row[id_column] if id_column else str(row_number)
                parts.append(
                    f"<tr><td>{html.escape(label)}</td><td class='match {row['match']}'>{row['match']}</td>"
                    f"<td class=sim>{row['similarity_to_representative']}</td><td>{html.escape(row[column])}</td></tr>"
                )
            parts.append("</table>")
    path.write_text("\n".join(parts), encoding="utf-8")


def _vector_path(args: argparse.Namespace) -> Path:
    path: Path = args.vectors or args.out.with_name(args.out.name + ".vectors.npy")
    return path


def _bar(stage: str, total: int, unit: str, initial: int = 0) -> tqdm[None]:
    return tqdm(total=total, initial=initial, unit=unit, desc=stage, file=sys.stderr, mininterval=1.0)


def _timed(stages: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    stages[stage] = time.perf_counter() - started
    return result


def _threshold(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {raw!r}") from None
    if not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a cosine from -1 to 1, found {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="simfn-dedupe", description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="input CSV (UTF-8) with a header row")
    parser.add_argument("--column", required=True, help="the column holding the goal text")
    parser.add_argument("--id-column", help="a column identifying each row (default: its row number)")
    parser.add_argument("--threshold", type=_threshold, help="cosine threshold (default: the cluster function's)")
    parser.add_argument(
        "--review-threshold", type=_threshold, help="also group, as `possible`, texts down to this cosine"
    )
    parser.add_argument("--model", help="an allow-listed model id (default: the service's)")
    parser.add_argument("--out", type=Path, required=True, help="output CSV: the input rows plus their group")
    parser.add_argument("--html", type=Path, help="also write an HTML report of the groups")
    parser.add_argument(
        "--vectors", type=Path, help="the resumable vector file (default: OUT.vectors.npy); kept for the next run"
    )
    parser.add_argument(
        "--neighbours",
        choices=("auto", "exact", "approximate"),
        default="auto",
        help=f"how pairs are found (auto: exact up to {EXACT_UP_TO:,} distinct texts)",
    )
    parser.add_argument(
        "--probes", type=int, default=PROBES, help="lists the approximate index searches: more is closer to exact"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stages: dict[str, float] = {}
    try:
        default = get_runtime().settings.thresholds(args.model).cluster
        threshold = args.threshold if args.threshold is not None else default
        if args.review_threshold is not None and args.review_threshold > threshold:
            raise InputError(f"--review-threshold {args.review_threshold} is above the threshold {threshold}")
        table = read_goals(args.csv, args.column, args.id_column)
        for path in filter(None, (args.out, args.html, args.vectors)):
            if not path.parent.is_dir():
                raise InputError(f"{path}: no folder {path.parent}")
        rows = assign(table, args, threshold, stages)
        write_csv(args.out, table.header, rows)
        if args.html:
            band = "" if args.review_threshold is None else f", possible from {args.review_threshold}"
            write_html(args.html, rows, args.column, args.id_column, f"cosine threshold {threshold}{band}")
    except (InputError, SettingsError, VectorFileError, UnknownModelError) as error:
        print(f"simfn-dedupe: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"simfn-dedupe: interrupted; the vectors so far are kept in {_vector_path(args)}", file=sys.stderr)
        return 130
    grouped = [row for row in rows if row["group_size"] and int(row["group_size"]) > 1]
    counts = {kind: sum(row["match"] == kind for row in grouped) for kind in ("exact", "duplicate", "possible")}
    times = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in stages.items())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"simfn-dedupe: {len(rows)} rows → {len({row['group'] for row in grouped})} groups holding {len(grouped)} rows "
        f"({counts['exact']} exact, {counts['duplicate']} duplicate, {counts['possible']} possible; threshold "
        f"{threshold}) in {time.perf_counter() - started:.1f} s ({times}); peak memory {peak:.0f} MB; "
        f"wrote {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
