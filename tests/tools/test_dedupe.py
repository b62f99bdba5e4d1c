from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest

from common.vectors import Matrix
from tests.fakes import FakeEngine, fake_runtime
from tools import dedupe
from tools.dedupe import main
from tools.vector_file import read_record

GOALS = [
    ("g1", "Improve family engagement through monthly parent workshops"),
    ("g2", "Reduce staff turnover with better onboarding"),
    ("g3", "Increase family engagement by holding parent workshops every month"),
    ("g4", "   "),
    ("g5", "Lower staff turnover by improving onboarding for new hires"),
    ("g6", "<script>alert(1)</script> Improve oral health screenings for infants"),
    ("g7", "Improve family engagement through monthly parent workshops"),
    ("g8", "<script>alert(1)</script> Improve oral health screening for infants"),
    ("g9", "  IMPROVE family engagement through monthly   parent workshops"),
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
    assert group["g1"] == group["g3"] == group["g7"] == group["g9"] != group["g2"] == group["g5"] != group["g6"]
    assert group["g6"] == group["g8"] and group["g4"] == "" and rows[3]["representative"] == ""
    match = {row["id"]: row["match"] for row in rows}
    assert rows[0]["group_size"] == "4" and rows[0]["representative_row"] == "g1", rows[0]
    assert (match["g1"], match["g3"], match["g7"], match["g9"]) == ("representative", "duplicate", "exact", "exact")
    assert float(rows[6]["similarity_to_representative"]) > 0.7
    page = report.read_text()
    assert "&lt;script&gt;alert(1)" in page and "<script>" not in page
    assert page.count("<h2>") == 3 and "Increase family engagement" in page and "possible" not in rows[0].values()


@pytest.mark.slow
def test_dedupe_review_band_marks_possible_rows_apart(tmp_path: Path) -> None:
    source, out, report = _write(tmp_path / "goals.csv", GOALS), tmp_path / "groups.csv", tmp_path / "report.html"
    argv = [str(source), "--column", "goal", "--id-column", "id", "--threshold", "0.99", "--out", str(out)]
    assert main([*argv, "--review-threshold", "0.7", "--html", str(report)]) == 0
    match = {row["id"]: (row["group"], row["match"]) for row in _read(out)}
    assert match["g1"][1] == "representative" and match["g3"] == (match["g1"][0], "possible"), match
    assert {match["g2"][1], match["g5"][1]} == {"representative", "possible"}, match
    assert "Possible duplicates, to confirm" in report.read_text()


class _Interrupting(FakeEngine):
    """Interrupted (as by Ctrl-C) at its second call."""

    def encode(self, texts: Sequence[str]) -> Matrix:
        if self.batches:
            raise KeyboardInterrupt
        return super().encode(texts)


def test_dedupe_resumes_from_its_vector_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe, "CHUNK", 2)
    source = _write(tmp_path / "goals.csv", GOALS)
    argv = [str(source), "--column", "goal", "--out", str(tmp_path / "out.csv")]
    monkeypatch.setattr(dedupe, "get_runtime", lambda: fake_runtime(_Interrupting()))
    assert main(argv) == 130
    assert read_record(tmp_path / "out.csv.vectors.npy").done == 2
    engine = FakeEngine()
    monkeypatch.setattr(dedupe, "get_runtime", lambda: fake_runtime(engine))
    assert main(argv) == 0
    assert [text for batch in engine.batches for text in batch] == [
        GOALS[i][1] for i in (2, 4, 5, 7)
    ]  # the distinct texts after the first two
    fresh = tmp_path / "fresh.csv"
    assert main([*argv[:-1], str(fresh)]) == 0 and _read(fresh) == _read(tmp_path / "out.csv")


def test_dedupe_refuses_a_vector_file_of_other_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dedupe, "get_runtime", lambda: fake_runtime())
    vectors = ["--vectors", str(tmp_path / "v.npy")]
    for rows in (GOALS, GOALS[:3]):
        code = main(
            [str(_write(tmp_path / "goals.csv", rows)), "--column", "goal", "--out", str(tmp_path / "o.csv"), *vectors]
        )
    assert code == 2 and "holds vectors of other texts" in capsys.readouterr().err


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
