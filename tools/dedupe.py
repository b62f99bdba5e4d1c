"""Deduplicate a CSV of goals in-process (no server): every input row, with its group and the group's representative.

simfn-dedupe goals.csv --column goal [--id-column id] [--threshold T] --out groups.csv [--html report.html]
"""

from __future__ import annotations

import argparse
import csv
import html
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.clustering import community_groups
from common.config import SettingsError
from common.runtime import get_runtime
from common.vectors import Matrix

CHUNK = 512
OUTPUT_COLUMNS = ("group", "group_size", "representative_row", "representative", "similarity_to_representative")


class InputError(Exception):
    """Something wrong with what the user gave; the message says what and how to fix it."""


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[dict[str, str]]


def read_table(path: Path, column: str, id_column: str | None) -> Table:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 (byte {error.start} is 0x{error.object[error.start]:02x}); save it as UTF-8 CSV"
        ) from None
    except csv.Error as error:
        raise InputError(f"{path}: not a readable CSV ({error})") from None
    if not header:
        raise InputError(f"{path}: the file is empty; expected a header row with a {column!r} column")
    for name in filter(None, (column, id_column)):
        if name not in header:
            raise InputError(f"{path}: no column {name!r}; the columns are {', '.join(map(repr, header))}")
    if not rows:
        raise InputError(f"{path}: a header but no rows")
    clashes = [name for name in OUTPUT_COLUMNS if name in header]
    if clashes:
        raise InputError(f"{path}: already has output column(s) {', '.join(clashes)}; rename them first")
    return Table(header, rows)


def encode(texts: Sequence[str]) -> Matrix:
    encoder = get_runtime().models.get()
    vectors = np.empty((len(texts), encoder.dimensions), dtype=np.float32)
    with tqdm(total=len(texts), unit="text", desc="encoding", file=sys.stderr) as progress:
        for start in range(0, len(texts), CHUNK):
            vectors[start : start + CHUNK] = encoder.encode(texts[start : start + CHUNK])
            progress.update(len(texts[start : start + CHUNK]))
    return vectors


def assign(table: Table, column: str, id_column: str | None, threshold: float) -> list[dict[str, str]]:
    """The input rows with the output columns; groups numbered largest first, then singletons."""
    indices = [i for i, row in enumerate(table.rows) if (row[column] or "").strip()]
    vectors = encode([table.rows[i][column] for i in indices])
    groups = community_groups(vectors, threshold, min_size=2)
    grouped = {m for group in groups for m in group.members}
    singles = [[m] for m in range(len(indices)) if m not in grouped]
    out = [{**row, **dict.fromkeys(OUTPUT_COLUMNS, "")} for row in table.rows]
    representatives = [g.representative for g in groups] + [single[0] for single in singles]
    for number, (members, centre) in enumerate(
        zip([g.members for g in groups] + singles, representatives, strict=True), 1
    ):
        row_of = indices[centre]
        label = table.rows[row_of][id_column] if id_column else str(row_of + 1)
        for member in members:
            out[indices[member]].update(
                group=str(number),
                group_size=str(len(members)),
                representative_row=label,
                representative=table.rows[row_of][column],
                similarity_to_representative=f"{float(vectors[member] @ vectors[centre]):.4f}",
            )
    return out


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*header, *OUTPUT_COLUMNS])
        writer.writeheader()
        writer.writerows(rows)


def write_html(path: Path, rows: list[dict[str, str]], column: str, id_column: str | None, threshold: float) -> None:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(rows, 1):
        if row["group_size"] and int(row["group_size"]) > 1:
            groups.setdefault(row["group"], []).append((number, row))
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Duplicate goals</title>",
        "<style>body{font:14px sans-serif;max-width:60em;margin:auto}td{padding:2px 8px;vertical-align:top}"
        "h2{font-size:15px;margin-top:2em}.sim{text-align:right;color:#555}</style>",
        f"<h1>Duplicate goals</h1><p>{len(rows)} rows; {len(groups)} groups of duplicates holding "
        f"{sum(map(len, groups.values()))} rows; cosine threshold {threshold}.</p>",
    ]
    for group, members in groups.items():
        first = members[0][1]
        parts.append(f"<h2>Group {group}: {len(members)} rows — {html.escape(first['representative'])}</h2><table>")
        parts.append("<tr><th>row</th><th>similarity to representative</th><th>text</th></tr>")
        for row_number, row in members:
            label = row[id_column] if id_column else str(row_number)
            parts.append(
                f"<tr><td>{html.escape(label)}</td><td class=sim>{row['similarity_to_representative']}</td>"
                f"<td>{html.escape(row[column])}</td></tr>"
            )
        parts.append("</table>")
    path.write_text("\n".join(parts), encoding="utf-8")


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
    parser.add_argument("--out", type=Path, required=True, help="output CSV: the input rows plus their group")
    parser.add_argument("--html", type=Path, help="also write an HTML report of the groups")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        threshold = args.threshold if args.threshold is not None else get_runtime().settings.cluster_threshold
        table = read_table(args.csv, args.column, args.id_column)
        for path in filter(None, (args.out, args.html)):
            if not path.parent.is_dir():
                raise InputError(f"{path}: no folder {path.parent}")
        rows = assign(table, args.column, args.id_column, threshold)
        write_csv(args.out, table.header, rows)
        if args.html:
            write_html(args.html, rows, args.column, args.id_column, threshold)
    except (InputError, SettingsError) as error:
        print(f"simfn-dedupe: {error}", file=sys.stderr)
        return 2
    duplicates = sum(1 for row in rows if row["group_size"] and int(row["group_size"]) > 1)
    groups = len({row["group"] for row in rows if row["group_size"] and int(row["group_size"]) > 1})
    print(
        f"simfn-dedupe: {len(rows)} rows → {groups} groups of duplicates holding {duplicates} rows "
        f"(threshold {threshold}) in {time.perf_counter() - started:.1f} s; wrote {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
