"""The CLIs' CSV input: a UTF-8 table with a header, read whole, with errors that say what to fix."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class InputError(Exception):
    """Something wrong with what the user gave; the message says what and how to fix it."""


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[dict[str, str]]


def read_table(path: Path, columns: Sequence[str | None]) -> Table:
    """The rows of a CSV that has every named column (None: not asked for) and at least one row."""
    wanted = [name for name in columns if name]
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
        raise InputError(f"{path}: the file is empty; expected a header row with {_names(wanted)}")
    for name in wanted:
        if name not in header:
            raise InputError(f"{path}: no column {name!r}; the columns are {_names(header)}")
    if not rows:
        raise InputError(f"{path}: a header but no rows")
    return Table(header, rows)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(map(repr, columns))
