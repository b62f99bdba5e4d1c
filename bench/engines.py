"""Engines side by side, in one run: cold start, memory, throughput against the machine's ceiling, one text.

python -m bench.engines [--backends onnxruntime openvino sentence-transformers] [--precisions f32 bf16]
    [--goals PATH_TO_goals.csv] [--out reports/engines.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ceiling import Ceiling, measure, precision_of
from bench.client import Client
from bench.launch import KEY, instance, rss_mb
from bench.report import throughput
from bench.texts import goal_texts, real_goals
from common.config import PROJECT_ROOT, Settings
from common.engines.artifact import verify
from common.models import load_engine
from tools.machine import describe

BATCH = 32
REPEATS = 3


@dataclass(frozen=True)
class Row:
    backend: str
    engine: str
    cold_start_s: float
    rss_after_load_mb: float
    in_process_per_s: float  # goal-like texts, batch 32
    goals_per_s: float | None  # real goals, batch 32
    http_per_s: float
    single_ms: float  # one text in-process, p50


def row(backend: str, precision: str, goals: Path | None) -> Row:
    env = {"SIMFN_BACKEND": backend, "SIMFN_PRECISION": precision}
    with instance("embed", env=env) as target, Client(target.port) as client:
        rss_loaded = rss_mb(target.pid)

        def post(texts: list[str]) -> None:
            answer = client.post({"texts": texts}, KEY)
            if answer.status != 200:
                raise RuntimeError(f"embed answered {answer.kind}")

        http = throughput(post, BATCH, REPEATS, lambda r: goal_texts(20 * BATCH, seed=100 + r))
    settings = Settings.from_environ(env)
    engine = load_engine(settings.model_dirs[settings.model], settings)
    engine.encode(["warm-up"])
    single = []
    for text in goal_texts(200, seed=3):
        began = time.perf_counter()
        engine.encode([text])
        single.append(time.perf_counter() - began)
    return Row(
        backend=backend,
        engine=engine.description,
        cold_start_s=target.cold_start_s,
        rss_after_load_mb=rss_loaded,
        in_process_per_s=throughput(engine.encode, BATCH, REPEATS, lambda r: goal_texts(20 * BATCH, seed=r)),
        goals_per_s=throughput(engine.encode, BATCH, REPEATS, lambda r: real_goals(goals, 640, seed=50 + r))
        if goals
        else None,
        http_per_s=http,
        single_ms=statistics.median(single) * 1000,
    )


def render(rows: list[Row], ceiling: Ceiling, goals_ceiling: Ceiling | None) -> str:
    lines = [
        f"# Engines, {time.strftime('%Y-%m-%d %H:%M')} on {describe()}; batch {BATCH}, median of {REPEATS}",
        "",
        ceiling.render("goal-like texts"),
        goals_ceiling.render("the real goals") if goals_ceiling else "",
        "",
        "| backend | engine | cold start s | RSS after load MB | in-process texts/s (% of ceiling) "
        "| real goals texts/s (%) | HTTP texts/s (%) | one text ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        precision = precision if (precision := precision_of(r.engine)) in ceiling.gflops else "f32"
        goal_cell = "-"
        if r.goals_per_s is not None and goals_ceiling is not None:
            goal_cell = f"{r.goals_per_s:.0f} ({goals_ceiling.percent(r.goals_per_s, precision):.0f} %)"
        lines.append(
            f"| {r.backend} | {r.engine} | {r.cold_start_s:.2f} | {r.rss_after_load_mb:.0f} "
            f"| {r.in_process_per_s:.0f} ({ceiling.percent(r.in_process_per_s, precision):.0f} %) | {goal_cell} "
            f"| {r.http_per_s:.0f} ({ceiling.percent(r.http_per_s, precision):.0f} %) | {r.single_ms:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["onnxruntime", "openvino"])
    parser.add_argument("--precisions", nargs="+", default=["f32", "bf16"], help="OpenVINO's, where the CPU has it")
    parser.add_argument("--goals", type=Path, help="a CSV with a `goal` column: real goals of mixed length")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "engines.json")
    args = parser.parse_args()
    settings = Settings.from_environ()
    artifact = verify(settings.model_dirs[settings.model])
    ceiling = measure(artifact, goal_texts(20 * BATCH, seed=0))
    goals_ceiling = measure(artifact, real_goals(args.goals, 640, seed=50)) if args.goals else None
    rows = []
    for backend in args.backends:
        precisions = [p for p in args.precisions if p in ceiling.gflops] if backend == "openvino" else ["auto"]
        rows += [row(backend, precision, args.goals) for precision in precisions]
    print(render(rows, ceiling, goals_ceiling))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = {"machine": describe(), "batch": BATCH, "rows": [dataclasses.asdict(r) for r in rows]}
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
