"""Thresholds from your own decisions: labelled pairs and/or groups → precision, recall and F1 by threshold.

simfn-calibrate --pairs PAIRS.csv [--groups GROUPS.csv] [--model ID] [--precision P] [--recall 0.95] --out DIR
PAIRS.csv: two text columns (--text-columns, default text_1,text_2) or two id columns (--id-columns) into a goals
CSV (--goals, --goals-id, --goals-text), and a label (--label-column: 1/0, true/false, yes/no, duplicate/different).
GROUPS.csv: a text and a group id per row (--group-text-column, --group-column): texts of one group are duplicates.
Writes DIR/calibration.md, .png and .json, and prints the vars lines to deploy; every figure has a bootstrap interval.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from common.config import SettingsError
from common.encoder import Encoder
from common.models import UnknownModelError
from common.runtime import get_runtime
from common.vectors import Matrix
from tools import scores
from tools.scores import ClusterScore, Point
from tools.table import InputError, read_table

PAIR_THRESHOLDS = [round(0.30 + 0.01 * step, 2) for step in range(70)]
GROUP_THRESHOLDS = [round(0.50 + 0.01 * step, 2) for step in range(46)]
PAIR_ROUNDS = 1_000
GROUP_ROUNDS = 200
LABELS = {
    **dict.fromkeys(("1", "true", "yes", "y", "duplicate", "dup", "same"), True),
    **dict.fromkeys(("0", "false", "no", "n", "different", "distinct", "not duplicate"), False),
}


@dataclass(frozen=True)
class Interval:
    """The middle 95 % of a figure over bootstrap rounds."""

    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Interval:
        low, high = np.percentile(values, [2.5, 97.5])
        return cls(round(float(low), 4), round(float(high), 4))


@dataclass(frozen=True)
class PairCalibration:
    pairs: int
    duplicates: int
    sweep: list[Point]
    best: Point  # the best F1
    best_threshold: Interval
    best_f1: Interval
    precision_target: float | None  # --precision: None when the user named none
    precise: Point | None  # the lowest threshold from which precision stays ≥ the target
    precise_threshold: Interval | None
    duplicate: Point  # the threshold to deploy: the precise one if a target was named and reached, else the best F1
    recall_target: float
    review: Point | None  # below `duplicate`, the highest threshold finding recall_target (None: no band needed)


@dataclass(frozen=True)
class GroupCalibration:
    texts: int
    groups: int
    sweep: list[ClusterScore]
    best: ClusterScore  # the best V-measure
    best_threshold: Interval
    best_v_measure: Interval


def calibrate_pairs(
    similarity: NDArray[np.float32],
    duplicate: NDArray[np.bool_],
    precision: float | None = None,
    recall: float = 0.95,
    rounds: int = PAIR_ROUNDS,
    seed: int = 0,
) -> PairCalibration:
    """The pair figures, with intervals from resampling the pairs with replacement."""
    sweep = scores.sweep(similarity, duplicate, PAIR_THRESHOLDS)
    rng = np.random.default_rng(seed)
    best_at, best_f1, reached = [], [], []
    for _ in range(rounds):
        pick = rng.integers(len(similarity), size=len(similarity))
        points = scores.sweep(similarity[pick], duplicate[pick], PAIR_THRESHOLDS)
        top = scores.best(points)
        best_at.append(top.threshold)
        best_f1.append(top.f1)
        round_precise = scores.lowest_precise(points, precision) if precision is not None else None
        if round_precise is not None:
            reached.append(round_precise.threshold)
    best = scores.best(sweep)
    precise = scores.lowest_precise(sweep, precision) if precision is not None else None
    chosen = precise or best
    review = scores.highest_recall([p for p in sweep if p.threshold <= chosen.threshold], recall)
    return PairCalibration(
        pairs=len(similarity),
        duplicates=int(duplicate.sum()),
        sweep=sweep,
        best=best,
        best_threshold=Interval.of(best_at),
        best_f1=Interval.of(best_f1),
        precision_target=precision,
        precise=precise,
        precise_threshold=Interval.of(reached) if precise and len(reached) > rounds // 2 else None,
        duplicate=chosen,
        recall_target=recall,
        review=review if review is not None and review.threshold < chosen.threshold else None,
    )


def calibrate_groups(
    vectors: Matrix, gold: Sequence[str], rounds: int = GROUP_ROUNDS, seed: int = 0
) -> GroupCalibration:
    """The grouping figures (the cluster function's community grouping) at each threshold.

    Intervals: the figures over random halves of the gold groups, each scored on the one grouping of all texts
    (not re-grouped): wider than a bootstrap of the same data would be, so they err on the side of doubt.
    """
    labels = {t: scores.community(vectors, t) for t in GROUP_THRESHOLDS}
    sweep = [scores.cluster_score("community", t, gold, labels[t]) for t in GROUP_THRESHOLDS]
    names = np.array(gold)
    groups = np.unique(names)
    rng = np.random.default_rng(seed)
    best_at, best_v = [], []
    for _ in range(rounds if len(groups) > 1 else 0):
        keep = np.isin(names, rng.choice(groups, size=max(1, len(groups) // 2), replace=False))
        v = [scores.v_measure(names[keep], labels[t][keep]) for t in GROUP_THRESHOLDS]
        top = max(range(len(v)), key=lambda k: (v[k], k))  # ties: the highest threshold, as for all texts
        best_at.append(GROUP_THRESHOLDS[top])
        best_v.append(v[top])
    best = max(sweep, key=lambda row: (row.v_measure, row.threshold))
    return GroupCalibration(
        texts=len(gold),
        groups=len(groups),
        sweep=sweep,
        best=best,
        best_threshold=Interval.of(best_at or [best.threshold]),
        best_v_measure=Interval.of(best_v or [best.v_measure]),
    )


def _label(raw: str, path: Path, row: int, column: str) -> bool:
    value = LABELS.get((raw or "").strip().casefold())
    if value is None:
        raise InputError(f"{path}: row {row}, column {column!r} is {raw!r}; expected 1/0, true/false or yes/no")
    return value


def read_pairs(args: argparse.Namespace) -> tuple[list[str], list[str], NDArray[np.bool_]]:
    """The two texts and the label of every labelled pair."""
    columns = args.id_columns or args.text_columns
    table = read_table(args.pairs, (*columns, args.label_column))
    texts: dict[str, str] | None = None
    if args.id_columns:
        if not args.goals:
            raise InputError("--id-columns needs --goals, the CSV the ids point into")
        goals = read_table(args.goals, (args.goals_id, args.goals_text))
        texts = {row[args.goals_id]: row[args.goals_text] for row in goals.rows}
    first, second, labels = [], [], []
    for number, row in enumerate(table.rows, 2):
        pair = [row[column] or "" for column in columns]
        if texts is not None:
            missing = [value for value in pair if value not in texts]
            if missing:
                raise InputError(f"{args.pairs}: row {number}: id {missing[0]!r} is not in {args.goals}")
            pair = [texts[value] for value in pair]
        if not all(text.strip() for text in pair):
            raise InputError(f"{args.pairs}: row {number}: a text is empty")
        first.append(pair[0])
        second.append(pair[1])
        labels.append(_label(row[args.label_column], args.pairs, number, args.label_column))
    found = np.array(labels)
    if found.all() or not found.any():
        raise InputError(f"{args.pairs}: every pair has the same label; calibration needs duplicates and others")
    return first, second, found


def read_groups(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    table = read_table(args.groups, (args.group_text_column, args.group_column))
    rows = [(row[args.group_text_column] or "", (row[args.group_column] or "").strip()) for row in table.rows]
    for number, (text, group) in enumerate(rows, 2):
        if not text.strip() or not group:
            raise InputError(f"{args.groups}: row {number}: empty text or group")
    if len({group for _, group in rows}) == len(rows):
        raise InputError(f"{args.groups}: every text is in a group of its own; calibration needs duplicates")
    return [text for text, _ in rows], [group for _, group in rows]


def pair_similarity(encoder: Encoder, first: list[str], second: list[str]) -> NDArray[np.float32]:
    """The cosine of each pair (first[k], second[k]) on the encoder."""
    return scores.pair_cosines(encoder.encode(first), encoder.encode(second))


def vars_lines(
    pairs: PairCalibration | None, groups: GroupCalibration | None, model: str, default_model: str
) -> list[str]:
    """The default model's thresholds as their own vars; another model's as its `model_thresholds` entry."""
    duplicate = f"{pairs.duplicate.threshold:.2f}" if pairs is not None else ""
    cluster = f"{groups.best.threshold:.2f}" if groups is not None else ""
    why = "best F1" if pairs is None or pairs.precise is None else f"precision ≥ {pairs.precision_target}"
    lines = [f"# vars/<environment>.yml, from simfn-calibrate on model {model}"]
    if model != default_model:
        kept = " (an empty side keeps the service's default)" if not (duplicate and cluster) else ""
        lines.append(f'model_thresholds: "{model}={duplicate}/{cluster}"  # duplicate: {why}; cluster: best V{kept}')
    else:
        if duplicate:
            lines.append(f'duplicate_threshold: "{duplicate}"  # {why}')
        if cluster:
            lines.append(f'cluster_threshold: "{cluster}"  # best V-measure')
    if pairs is not None and pairs.review is not None:
        lines.append(
            f"# per request: review_threshold {pairs.review.threshold:.2f} finds {pairs.review.recall:.0%} of the "
            f"duplicates (target {pairs.recall_target:.0%})"
        )
    return lines


def summary(pairs: PairCalibration | None, groups: GroupCalibration | None) -> list[str]:
    lines = []
    if pairs is not None:
        b = pairs.best
        lines += [
            f"pairs: {pairs.pairs} ({pairs.duplicates} duplicates)",
            f"  best F1 {b.f1:.3f} (95 % interval {pairs.best_f1.low:.3f}-{pairs.best_f1.high:.3f}) at "
            f"{b.threshold:.2f} ({pairs.best_threshold.low:.2f}-{pairs.best_threshold.high:.2f}); "
            f"precision {b.precision:.3f}, recall {b.recall:.3f}",
        ]
        p = pairs.precise
        if pairs.precision_target is None:
            pass
        elif p is None:
            lines.append(f"  no threshold keeps precision ≥ {pairs.precision_target}")
        else:
            spread = pairs.precise_threshold
            interval = f" ({spread.low:.2f}-{spread.high:.2f})" if spread else " (not reached in most rounds)"
            lines.append(
                f"  precision ≥ {pairs.precision_target} from {p.threshold:.2f}{interval}: recall {p.recall:.3f}"
            )
        if pairs.review is not None:
            lines.append(
                f"  review band: down to {pairs.review.threshold:.2f} finds {pairs.review.recall:.1%} of the "
                f"duplicates (precision {pairs.review.precision:.3f} there)"
            )
        else:
            lines.append(f"  no review band needed: {pairs.duplicate.threshold:.2f} finds {pairs.duplicate.recall:.1%}")
    if groups is not None:
        g = groups.best
        lines += [
            f"groups: {groups.texts} texts in {groups.groups} groups",
            f"  best V-measure {g.v_measure:.3f} ({groups.best_v_measure.low:.3f}-{groups.best_v_measure.high:.3f})"
            f" at {g.threshold:.2f} ({groups.best_threshold.low:.2f}-{groups.best_threshold.high:.2f}); ARI "
            f"{g.ari:.3f}; same-group pairs precision {g.pair_precision:.3f}, recall {g.pair_recall:.3f}",
        ]
    return lines


def markdown(pairs: PairCalibration | None, groups: GroupCalibration | None, deploy: list[str]) -> str:
    lines = ["# Calibration", "", *summary(pairs, groups), "", "```yaml", *deploy, "```"]
    if pairs is not None:
        lines += ["", "| threshold | precision | recall | F1 |", "|---|---|---|---|"]
        lines += [f"| {p.threshold:.2f} | {p.precision:.3f} | {p.recall:.3f} | {p.f1:.3f} |" for p in pairs.sweep]
    if groups is not None:
        lines += [
            "",
            "| threshold | V-measure | ARI | same-group precision | recall | texts alone | groups |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.threshold:.2f} | {r.v_measure:.3f} | {r.ari:.3f} | {r.pair_precision:.3f} | {r.pair_recall:.3f} "
            f"| {r.singletons:.1%} | {r.clusters} |"
            for r in groups.sweep
        ]
    return "\n".join(lines) + "\n"


def plot(pairs: PairCalibration | None, groups: GroupCalibration | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [panel for panel in (pairs, groups) if panel is not None]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    for axis, panel in zip(axes[0], panels, strict=True):
        if isinstance(panel, PairCalibration):
            at = [p.threshold for p in panel.sweep]
            for name in ("precision", "recall", "f1"):
                axis.plot(at, [getattr(p, name) for p in panel.sweep], label=name)
            axis.axvspan(panel.best_threshold.low, panel.best_threshold.high, alpha=0.15, label="best F1, 95 %")
            if panel.precise is not None:
                axis.axvline(panel.precise.threshold, ls=":", c="k", label=f"precision ≥ {panel.precision_target}")
            axis.set(title=f"{panel.pairs} labelled pairs", xlabel="cosine threshold")
        else:
            at = [r.threshold for r in panel.sweep]
            for name in ("v_measure", "ari", "pair_precision", "pair_recall"):
                axis.plot(at, [getattr(r, name) for r in panel.sweep], label=name.replace("_", " "))
            axis.axvspan(panel.best_threshold.low, panel.best_threshold.high, alpha=0.15, label="best V, 95 %")
            axis.set(title=f"{panel.texts} texts in {panel.groups} groups", xlabel="cosine threshold")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _share(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {raw!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share above 0 and at most 1, found {value}")
    return value


def _two(raw: str) -> list[str]:
    names = [name.strip() for name in raw.split(",")]
    if len(names) != 2 or not all(names):
        raise argparse.ArgumentTypeError(f"expected two column names separated by a comma, found {raw!r}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="simfn-calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, help="CSV of labelled pairs")
    parser.add_argument("--text-columns", type=_two, default=["text_1", "text_2"], help="default: text_1,text_2")
    parser.add_argument("--id-columns", type=_two, help="two id columns into --goals instead of texts")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--goals", type=Path, help="the goals CSV that --id-columns point into")
    parser.add_argument("--goals-id", default="id")
    parser.add_argument("--goals-text", default="goal")
    parser.add_argument("--groups", type=Path, help="CSV of texts with a group id each")
    parser.add_argument("--group-text-column", default="text")
    parser.add_argument("--group-column", default="group")
    parser.add_argument("--model", help="an allow-listed model id (default: the service's)")
    parser.add_argument(
        "--precision", type=_share, help="deploy the lowest threshold keeping this precision (default: the best F1)"
    )
    parser.add_argument("--recall", type=_share, default=0.95, help="share of duplicates the review band must find")
    parser.add_argument("--rounds", type=int, default=PAIR_ROUNDS, help="bootstrap rounds for pairs")
    parser.add_argument("--out", type=Path, required=True, help="folder for calibration.md, .png and .json")
    args = parser.parse_args(argv)
    if not args.pairs and not args.groups:
        parser.error("give --pairs, --groups or both")
    try:
        if not args.out.parent.is_dir():
            raise InputError(f"{args.out}: no folder {args.out.parent}")
        pair_input = read_pairs(args) if args.pairs else None
        group_input = read_groups(args) if args.groups else None
        runtime = get_runtime()
        encoder = runtime.models.get(args.model)
        pairs = groups = None
        if pair_input is not None:
            first, second, labels = pair_input
            similarity = pair_similarity(encoder, first, second)
            pairs = calibrate_pairs(similarity, labels, args.precision, args.recall, args.rounds)
        if group_input is not None:
            groups = calibrate_groups(encoder.encode(group_input[0]), group_input[1])
    except (InputError, SettingsError, UnknownModelError) as error:
        print(f"simfn-calibrate: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(exist_ok=True)
    lines = vars_lines(pairs, groups, encoder.model_id, runtime.settings.model)
    (args.out / "calibration.md").write_text(markdown(pairs, groups, lines), encoding="utf-8")
    (args.out / "calibration.json").write_text(
        json.dumps({"model": encoder.model_id, "pairs": pairs and asdict(pairs), "groups": groups and asdict(groups)})
    )
    plot(pairs, groups, args.out / "calibration.png")
    print("\n".join([*summary(pairs, groups), "", *lines]))
    print(f"simfn-calibrate: wrote {args.out}/calibration.md, .png and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
