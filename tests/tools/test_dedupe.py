from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tools.dedupe import main

GOALS = [
    ("g1", "Improve family engagement through monthly parent workshops"),
    ("g2", "Reduce staff turnover with better onboarding"),
    ("g3", "Increase family engagement by holding parent workshops every month"),
    ("g4", "   "),
    ("g5", "Lower staff turnover by improving onboarding for new hires"),
    ("g6", "<script>alert(1)</script> Improve oral health screenings for infants"),
    ("g7", "Improve family engagement through monthly parent workshops"),
    ("g8", "<script>alert(1)</script> Improve oral health screening for infants"),
]


def _write(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("id", "goal")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_dedupe_groups_duplicates_and_keeps_every_row(tmp_path: Path) -> None:
    source, out, report = _write(tmp_path / "goals.csv", GOALS), tmp_path / "groups.csv", tmp_path / "report.html"
    argv = [str(source), "--column", "goal", "--id-column", "id", "--threshold", "0.7", "--out", str(out)]
    assert main([*argv, "--html", str(report)]) == 0
    rows = _read(out)
    assert [row["id"] for row in rows] == [goal_id for goal_id, _ in GOALS]
    group = {row["id"]: row["group"] for row in rows}
    assert group["g1"] == group["g3"] == group["g7"] != group["g2"] == group["g5"] != group["g6"] == group["g8"]
    assert group["g4"] == "" and rows[3]["representative"] == ""
    assert rows[0]["group_size"] == "3" and rows[0]["representative_row"] in {"g1", "g3", "g7"}
    assert float(rows[6]["similarity_to_representative"]) > 0.7
    page = report.read_text()
    assert "&lt;script&gt;alert(1)" in page and "<script>" not in page
    assert page.count("<h2>") == 3 and "Increase family engagement" in page


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        (None, [], "no such file"),
        (b"", [], "the file is empty"),
        (b"id,text\n1,a\n", [], "no column 'goal'; the columns are 'id', 'text'"),
        (b"id,goal\n1,a\n", ["--id-column", "key"], "no column 'key'"),
        (b"id,goal\n", [], "a header but no rows"),
        (b"id,goal\n1,caf\xe9\n", [], "not UTF-8 (byte 13 is 0xe9)"),
        (b"goal,group\na,1\n", [], "already has output column(s) group"),
        (b"id,goal\n1,a\n", ["--out", "/nonexistent/out.csv"], "no folder /nonexistent"),
    ],
)
def test_dedupe_explains_bad_input_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, argv: list[str], message: str
) -> None:
    source = tmp_path / "goals.csv"
    if content is not None:
        source.write_bytes(content)
    args = [str(source), "--column", "goal", "--out", str(tmp_path / "out.csv"), *argv]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error, error


@pytest.mark.parametrize("threshold", ["high", "1.5"])
def test_dedupe_rejects_a_bad_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "g.csv"), "--column", "goal", "--out", "o.csv", "--threshold", threshold])
    assert exit_.value.code == 2 and "--threshold" in capsys.readouterr().err
