from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import fake_runtime
from tools import calibrate
from tools.calibrate import calibrate_groups, calibrate_pairs, main
from tools.scores import sweep


def _scores(count: int, seed: int, separation: float) -> tuple[np.ndarray, np.ndarray]:
    """Duplicates around 0.85, others around 0.85 - separation, both with spread 0.05."""
    rng = np.random.default_rng(seed)
    duplicate = rng.random(count) < 0.4
    similarity = np.where(duplicate, 0.85, 0.85 - separation) + 0.05 * rng.standard_normal(count)
    return similarity.astype(np.float32), duplicate


def test_calibrate_pairs_finds_the_threshold_between_the_two_kinds() -> None:
    similarity, duplicate = _scores(2_000, 0, separation=0.3)
    found = calibrate_pairs(similarity, duplicate, precision=0.99, recall=0.9, rounds=200)
    assert 0.66 <= found.best.threshold <= 0.74 and found.best.f1 > 0.97, found.best
    assert found.best_threshold.low <= found.best.threshold <= found.best_threshold.high
    assert found.precise is not None and found.precise.precision >= 0.99
    assert all(p.precision >= 0.99 for p in found.sweep if p.threshold >= found.precise.threshold and p.recall)
    assert found.duplicate == found.precise
    assert found.review is None or (found.review.recall >= 0.9 and found.review.threshold < found.precise.threshold)


def test_calibrate_pairs_review_band_reaches_the_recall_the_threshold_misses() -> None:
    similarity, duplicate = _scores(3_000, 4, separation=0.12)
    found = calibrate_pairs(similarity, duplicate, precision=0.98, recall=0.95, rounds=50)
    assert found.precise is not None and found.precise.recall < 0.95, found.precise
    assert found.review is not None and found.review.recall >= 0.95 > found.duplicate.recall


def test_calibrate_pairs_interval_narrows_with_more_labels() -> None:
    few = calibrate_pairs(*_scores(60, 1, separation=0.15), rounds=300)
    many = calibrate_pairs(*_scores(6_000, 1, separation=0.15), rounds=300)
    assert few.best_f1.high - few.best_f1.low > 2 * (many.best_f1.high - many.best_f1.low), (few.best_f1, many.best_f1)


def test_calibrate_pairs_deploys_the_best_f1_unless_a_precision_is_named() -> None:
    similarity, duplicate = _scores(1_000, 3, separation=0.2)
    plain = calibrate_pairs(similarity, duplicate, rounds=20)
    assert plain.duplicate == plain.best and plain.precise is None and plain.precision_target is None
    assert calibrate_pairs(similarity, duplicate, precision=0.999, rounds=20).duplicate.threshold > plain.best.threshold


def test_calibrate_pairs_says_when_no_threshold_is_precise_enough() -> None:
    similarity, duplicate = _scores(500, 2, separation=0.0)
    assert calibrate_pairs(similarity, duplicate, precision=0.99, rounds=50).precise is None


def test_sweep_decides_as_the_service_does_at_the_threshold() -> None:
    # 0.7 computed in float32 may be 0.69999999; the service still calls it a duplicate at 0.7.
    point = sweep(np.array([0.7 - 1e-7, 0.2], dtype=np.float32), np.array([True, False]), [0.7])[0]
    assert (point.precision, point.recall) == (1.0, 1.0)


def test_calibrate_groups_peaks_where_the_gold_groups_are_recovered() -> None:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((30, 16))
    gold = np.repeat(np.arange(30), 5)
    vectors = centres[gold] + 0.12 * rng.standard_normal((150, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    found = calibrate_groups(vectors, [f"g{g}" for g in gold], rounds=40)
    assert found.best.v_measure > 0.95 and found.best.pair_precision > 0.9, found.best
    assert found.best_threshold.low <= found.best.threshold <= found.best_threshold.high
    assert (found.texts, found.groups) == (150, 30)


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


PAIRS = [
    ["Hold monthly parent workshops", "Run workshops for parents every month", "1"],
    ["Hold monthly parent workshops", "Reduce staff turnover", "0"],
    ["Improve oral health screenings", "Increase dental screenings for infants", "yes"],
    ["Improve oral health screenings", "Expand outdoor play", "no"],
    ["Lower staff turnover", "Reduce staff turnover", "true"],
    ["Lower staff turnover", "Track daily attendance", "false"],
]


@pytest.mark.slow
def test_calibrate_writes_the_figures_plot_and_vars_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = _csv(tmp_path / "pairs.csv", ["text_1", "text_2", "label"], PAIRS)
    groups = _csv(tmp_path / "groups.csv", ["text", "group"], [[a, str(n // 2)] for n, (a, _, _) in enumerate(PAIRS)])
    assert main(["--pairs", str(pairs), "--groups", str(groups), "--rounds", "50", "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert 'duplicate_threshold: "' in out and 'cluster_threshold: "' in out, out
    assert {path.name for path in (tmp_path / "c").iterdir()} == {
        "calibration.md",
        "calibration.png",
        "calibration.json",
    }
    record = json.loads((tmp_path / "c" / "calibration.json").read_text())
    assert record["pairs"]["pairs"] == 6 and record["pairs"]["best"]["f1"] == 1.0, record["pairs"]["best"]


def test_calibrate_reads_pairs_as_ids_into_a_goals_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibrate, "get_runtime", lambda: fake_runtime())
    goals = _csv(tmp_path / "goals.csv", ["id", "goal"], [["a", "x y"], ["b", "x z"], ["c", "q"]])
    pairs = _csv(tmp_path / "pairs.csv", ["left", "right", "same"], [["a", "b", "1"], ["a", "c", "0"]])
    argv = ["--pairs", str(pairs), "--id-columns", "left,right", "--label-column", "same", "--goals", str(goals)]
    assert main([*argv, "--rounds", "10", "--out", str(tmp_path / "c")]) == 0


@pytest.mark.parametrize(
    ("pairs", "extra", "message"),
    [
        ([["a", "b", "maybe"]], [], "row 2, column 'label' is 'maybe'"),
        ([["a", "b", "1"], ["a", "c", "1"]], [], "every pair has the same label"),
        ([["a", " ", "1"]], [], "row 2: a text is empty"),
        ([["a", "b", "1"], ["c", "d", "0"]], ["--id-columns", "text_1,text_2"], "--id-columns needs --goals"),
        ([["a", "b", "1"], ["c", "d", "0"]], ["--model", "nope"], "the model must be one of"),
    ],
)
def test_calibrate_explains_bad_input_without_a_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pairs: list[list[str]],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(calibrate, "get_runtime", lambda: fake_runtime())
    source = _csv(tmp_path / "pairs.csv", ["text_1", "text_2", "label"], pairs)
    assert main(["--pairs", str(source), *extra, "--out", str(tmp_path / "c")]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error, error


def test_calibrate_groups_file_needs_a_group_with_two_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(calibrate, "get_runtime", lambda: fake_runtime())
    groups = _csv(tmp_path / "groups.csv", ["text", "group"], [["a", "1"], ["b", "2"]])
    assert main(["--groups", str(groups), "--out", str(tmp_path / "c")]) == 2
    assert "every text is in a group of its own" in capsys.readouterr().err


def test_calibrate_vars_name_another_models_thresholds_as_its_entry() -> None:
    pairs = calibrate_pairs(*_scores(500, 7, separation=0.3), rounds=10)
    own = calibrate.vars_lines(pairs, None, "goals-v1", default_model="all-MiniLM-L6-v2")
    assert f'model_thresholds: "goals-v1={pairs.best.threshold:.2f}/"' in own[1], own
    default = calibrate.vars_lines(pairs, None, "all-MiniLM-L6-v2", default_model="all-MiniLM-L6-v2")
    assert default[1].startswith(f'duplicate_threshold: "{pairs.best.threshold:.2f}"'), default
