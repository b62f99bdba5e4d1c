"""The attack benchmark: what users and attackers can send, against each function as production runs it.

python -m bench.attack [--functions embed compare cluster] [--quick] [--backend B] [--page docs/memory.md]
    [--out reports/attack.json]

Each function starts with its production command and vars/prod.yml (bench.launch). Every case is replayed
while RSS is sampled every 20 ms and /healthz is probed every 100 ms; the report gives, per case, the
answers, peak RSS against the quota, RSS afterwards and the slowest /healthz. Loopback only; every case is
bounded in count and time. --quick runs a shorter version of each case (the slow test uses it).
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import orjson

from bench.client import Answer, Client
from bench.launch import FIRST, KEY, Instance, instance, rss_mb
from bench.texts import goal_texts
from common.config import PROJECT_ROOT
from common.vectors import Matrix, normalize, to_base64
from tools.machine import describe

SAMPLE_SECONDS = 0.02
PROBE_SECONDS = 0.1
DEFAULT_PAGE = PROJECT_ROOT / "docs" / "memory.md"


Run = Callable[[Instance], list[Answer]]


@dataclass(frozen=True)
class Case:
    name: str
    run: Run
    stops_instance: bool = False


@dataclass
class Result:
    function: str
    case: str
    answers: dict[str, int]
    peak_mb: float
    quota_mb: int
    after_mb: float
    health_max_ms: float
    health_limit_ms: float
    seconds: float

    @property
    def ok(self) -> bool:
        """Under quota, /healthz in time, and every answer complete JSON: no reset, no 500, no plain text."""
        complete = all(
            kind[:3].isdigit() and not kind.startswith("500") and "not JSON" not in kind for kind in self.answers
        )
        return self.peak_mb < self.quota_mb and self.health_max_ms < self.health_limit_ms and complete


class Watch:
    """RSS samples and /healthz latencies of one instance while a case runs."""

    def __init__(self, target: Instance, probe_health: bool) -> None:
        self.target = target
        self.probe_health = probe_health  # not once the case stops the instance: it stops listening by design
        self.peak = rss_mb(target.pid)
        self.health: list[float] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._sample), threading.Thread(target=self._probe)]

    def _alive(self) -> bool:
        return self.target.process.poll() is None

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS) and self._alive():
            try:
                self.peak = max(self.peak, rss_mb(self.target.pid))
            except (OSError, RuntimeError):  # it exited between the check and the read
                return

    def _probe(self) -> None:
        while not self._stop.wait(PROBE_SECONDS) and self.probe_health:
            with Client(self.target.port, timeout=10) as client:
                answer = client.request("GET", "/healthz")
            self.health.append(answer.seconds if answer.status == 200 else 10.0)

    def __enter__(self) -> Watch:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def _posts(body: bytes, times: int = 1, at_once: int = 1, headers: dict[str, str] | None = None) -> Run:
    """`times` posts of `body`, `at_once` concurrent clients."""

    def run(target: Instance) -> list[Answer]:
        def client(count: int) -> list[Answer]:
            with Client(target.port) as connection:
                return [connection.post(body, headers if headers is not None else KEY) for _ in range(count)]

        shares = [times // at_once + (index < times % at_once) for index in range(at_once)]
        with ThreadPoolExecutor(at_once) as pool:
            return [answer for answers in pool.map(client, shares) for answer in answers]

    return run


def _beside(main: Run, small: bytes, clients: int = 16) -> Run:
    """`main` while `clients` clients post `small` back to back until it is done; every answer counts."""

    def run(target: Instance) -> list[Answer]:
        done = threading.Event()

        def client() -> list[Answer]:
            with Client(target.port) as connection:
                answers = []
                while not done.is_set():
                    answers.append(connection.post(small, KEY))
                return answers

        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(client) for _ in range(clients)]
            try:
                answers = main(target)
            finally:
                done.set()
            return answers + [answer for future in futures for answer in future.result()]

    return run


def _connections(function: str, count: int, seconds: float, trickle: bool) -> Run:
    """`count` connections held open for `seconds`: idle, or sending one header byte a second each."""

    def run(target: Instance) -> list[Answer]:
        sockets = []
        with ExitStack() as stack:
            for _ in range(count):
                sockets.append(stack.enter_context(socket.create_connection(("127.0.0.1", target.port))))
            deadline = time.monotonic() + seconds
            header = iter(b"POST / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 100_000)
            while time.monotonic() < deadline:
                if trickle:
                    byte = bytes([next(header)])
                    for connection in sockets:
                        try:
                            connection.send(byte)
                        except OSError:
                            pass
                time.sleep(1.0)
            with Client(target.port) as client:  # the instance still serves when they are gone
                return [client.post(FIRST[function], KEY)]

    return run


def _shutdown_under_load(clients: int, body: bytes) -> Run:
    """SIGTERM while `clients` keep posting on kept-alive connections: every answer complete, none a 500."""

    def run(target: Instance) -> list[Answer]:
        stop = threading.Event()

        def client() -> list[Answer]:
            answers = []
            with Client(target.port, timeout=30) as connection:
                while not stop.is_set():
                    answer = connection.post(body, KEY)
                    if answer.failure == "ConnectionRefusedError":
                        break  # the listener is closed: a new connection is refused, nothing is lost
                    answers.append(answer)
            return answers

        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(client) for _ in range(clients)]
            time.sleep(1.0)
            target.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            target.process.wait(timeout=15)
            exited = time.monotonic() - signalled
            stop.set()
            answers = [answer for future in futures for answer in future.result()]
        answers.append(Answer(200 if exited < 10 else 0, exited, failure="exit past 10 s"))
        return answers

    return run


def _json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def _largest(make: Callable[[int], object], limit: int = 2_000_000) -> bytes:
    """The body with as many items as fit under `limit` bytes."""
    count = 1
    while len(_json(make(count * 2))) <= limit and count < 1_000_000:
        count *= 2
    low, high = count, count * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(_json(make(middle))) <= limit else (low, middle)
    return _json(make(low))


def _unit_vectors(count: int, seed: int) -> Matrix:
    return normalize(np.random.default_rng(seed).standard_normal((count, 384)))


def _long_texts(count: int, chars: int, seed: int, tail: str = "") -> list[str]:
    words = " ".join(goal_texts(200, seed)).split()
    rng = np.random.default_rng(seed)
    texts = []
    for index in range(count):
        picked = " ".join(words[i] for i in rng.integers(0, len(words), chars // 4))
        texts.append((f"{index} {picked}")[: chars - len(tail)] + tail)
    return texts


def cases(function: str, quick: bool) -> Iterator[Case]:
    """The cases of the issue's table and list, for one function (smaller counts when quick)."""
    scale = 10 if quick else 1
    goal = "Improve family engagement through monthly parent workshops"
    if function == "embed":
        yield Case("2 MB of 500,000 one-letter strings", _posts(_json({"texts": ["a"] * 500_000})))
        yield Case(
            f"{42 // scale} requests of 243 distinct 8,192-character texts (the cache fills)",
            _in_order([_json({"texts": _long_texts(243, 8192, 100 + r)}) for r in range(42 // scale)]),
        )
        yield Case(
            "2 at once: 256 texts of 8,192 characters (the largest admitted)",
            _posts(_json({"texts": _long_texts(240, 8192, 2)}), times=2, at_once=2),
        )
        yield Case(
            f"{1000 // scale} ordinary requests (8 new goals each)",
            _in_order([_json({"texts": goal_texts(8, seed=1000 + r)}) for r in range(1000 // scale)]),
        )
        yield Case(
            f"{800 // scale} one-goal requests, 16 at once (the small requests' slots and batching)",
            _posts(_json({"texts": [goal]}), times=800 // scale, at_once=16),
        )
        yield Case(
            "2 of the largest at once, beside 16 one-goal clients",
            _beside(_posts(_json({"texts": _long_texts(240, 8192, 8)}), times=2, at_once=2), _json({"texts": [goal]})),
        )
        yield Case("twelve 4 MB bodies without the key", _posts(b" " * 4_000_000, times=12, at_once=4, headers={}))
    elif function == "compare":
        same = _json({"texts": [goal] * 5_000, "threshold": -1})
        yield Case("2 at once: all pairs of 5,000 identical texts at threshold -1", _posts(same, times=2, at_once=2))
        vectors = _unit_vectors(500, 3)
        query = _largest(
            lambda n: {"query": goal, "candidates": [{"id": i, "embedding": v} for i, v in enumerate(vectors[:n])]}
        )
        yield Case(
            "2 at once: a query against stored JSON vectors (the most in 2 MB)", _posts(query, times=2, at_once=2)
        )
        packed_query = _json(
            {
                "query": goal,
                "candidates": [{"id": i, "embedding": to_base64(v[None])} for i, v in enumerate(vectors)] * 10,
            }
        )
        yield Case("2 at once: a query against 5,000 stored base64 vectors", _posts(packed_query, times=2, at_once=2))
        yield Case(
            f"2 at once: all pairs of {5000 // scale} distinct goals at 0.99",
            _posts(_json({"texts": goal_texts(5000 // scale, 4), "threshold": 0.99}), times=2, at_once=2),
        )
        packed = orjson.dumps({"embeddings": to_base64(_unit_vectors(5000, 9)), "threshold": 0.99})
        yield Case("2 at once: all pairs of 5,000 stored vectors as base64", _posts(packed, times=2, at_once=2))
        banded = orjson.dumps(
            {"embeddings": to_base64(_unit_vectors(5000, 9)), "threshold": 0.99, "review_threshold": 0.14}
        )
        yield Case(
            "2 at once: the same with a review band down to 0.14 (~16,000 possible pairs)",
            _posts(banded, times=2, at_once=2),
        )
        yield Case("twelve 4 MB bodies without the key", _posts(b" " * 4_000_000, times=12, at_once=4, headers={}))
    else:
        copies = _json({"texts": [goal] * 10_000})
        yield Case("10,000 copies of one short goal", _posts(copies))
        yield Case(
            "10,000 copies at threshold -1, three in a row",
            _posts(_json({"texts": [goal] * 10_000, "threshold": -1}), times=3),
        )
        yield Case(
            f"{1000 // scale} distinct 500-character goals",
            _posts(_json({"texts": _long_texts(1000 // scale, 500, 7)})),
        )
        # After the distinct goals: the largest parses start from a warm engine and a full cache (the worst order).
        zeros = b'{"embeddings":[' + b",".join([b"[" + b",".join([b"0"] * 4096) + b"]"] * 7800) + b"]}"
        yield Case("a 64 MB body of 4,096-number zero vectors", _posts(zeros))
        admitted = b'{"embeddings":[' + b",".join([b"[" + b",".join([b"0"] * 4096) + b"]"] * 240) + b"]}"
        yield Case("1 M JSON values: 4,096-number zero vectors under the limits", _posts(admitted))
        yield Case(
            "2,500 stored vectors as embed writes them (12 MB, the most under the limits)",
            _posts(_json({"embeddings": _unit_vectors(2500, 5)})),
        )
        base64_vectors = orjson.dumps({"embeddings": to_base64(_unit_vectors(10_000, 11))})
        yield Case("10,000 stored vectors as base64 (the item limit; 20 MB)", _posts(base64_vectors))
        banded = orjson.dumps({"embeddings": to_base64(_unit_vectors(10_000, 11)), "review_threshold": 0.1})
        yield Case("the same with a review band down to 0.1 (every text left out is grouped again)", _posts(banded))
        too_many = orjson.dumps({"embeddings": to_base64(np.ones((10_200, 384), np.float32))})
        yield Case("10,200 vectors as base64 (20.9 MB: under the body limit, over the items)", _posts(too_many))
        worst_texts = _json({"texts": _long_texts(2500, 8191, 6, tail="😀"), "model": "no-such-model"})
        yield Case("21 MB of 8,191-character non-ASCII texts (parsed, then unknown_model)", _posts(worst_texts))
        yield Case("twelve 127 MB bodies without the key", _posts(b" " * 127_000_000, times=12, at_once=4, headers={}))
    yield Case("1,000 idle connections for 5 s", _connections(function, 1000, 5, trickle=False))
    yield Case(
        "1,000 connections trickling a header byte a second for 12 s",
        _connections(function, 1000, 12, trickle=True),
    )
    yield Case(
        "SIGTERM under load: 8 clients on kept-alive connections",
        _shutdown_under_load(8, _json(FIRST[function])),
        stops_instance=True,
    )


def _in_order(bodies: list[bytes]) -> Run:
    """Each body posted once, in order, on one kept-alive connection."""

    def run(target: Instance) -> list[Answer]:
        with Client(target.port) as client:
            return [client.post(body, KEY) for body in bodies]

    return run


def attack(function: str, quick: bool, backend: str | None = None) -> Iterator[Result]:
    """Each case's result as soon as it is measured."""
    with instance(function, env={"SIMFN_BACKEND": backend} if backend else None) as target:
        for case in cases(function, quick):
            began = time.perf_counter()
            with Watch(target, probe_health=not case.stops_instance) as watch:
                answers = case.run(target)
            after = rss_mb(target.pid) if target.process.poll() is None else 0.0
            yield Result(
                function,
                case.name,
                dict(Counter(answer.kind for answer in answers)),
                watch.peak,
                target.quota_mb,
                after,
                1000 * max(watch.health, default=0.0),
                1000 * target.health_timeout_s,
                time.perf_counter() - began,
            )


def _row(result: Result) -> str:
    answers = ", ".join(f"{kind}: {count}" for kind, count in sorted(result.answers.items()))
    return (
        f"| {result.function} | {result.case} | {answers} | {result.peak_mb:.0f} / {result.quota_mb} "
        f"| {result.after_mb:.0f} | {result.health_max_ms:.0f} | {'yes' if result.ok else '**no**'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", nargs="+", default=["embed", "compare", "cluster"])
    parser.add_argument("--quick", action="store_true", help="shorter cases (the slow test's version)")
    parser.add_argument("--backend", help="SIMFN_BACKEND for the instances (default: the manifest's, auto)")
    parser.add_argument("--page", type=Path, default=DEFAULT_PAGE)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "attack.json")
    args = parser.parse_args()
    options = f"{' --quick' if args.quick else ''}{f' --backend {args.backend}' if args.backend else ''}"
    page = "" if args.page == DEFAULT_PAGE else f" --page {args.page}"
    command = f"python -m bench.attack{options} --functions {' '.join(args.functions)}{page}"
    lines = [
        "# Memory and liveness under attack",
        "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M')}, {describe()}; each function started",
        "with its production command and `vars/prod.yml`. RSS sampled every 20 ms, `/healthz` probed every 100 ms",
        "(not after the SIGTERM of the last case, when the instance stops listening by design). One page per CPU",
        "class measured: [memory.md](memory.md) (Intel with AMX: `auto` runs OpenVINO bf16),",
        "[memory-amd-bf16.md](memory-amd-bf16.md) (AMD with AVX-512 BF16: OpenVINO bf16) and",
        "[memory-no-amx.md](memory-no-amx.md) (Intel without AMX: ONNX Runtime f32).",
        "",
        "| function | case | answers | peak RSS / quota MB | RSS after MB | slowest /healthz ms | within |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    results = []
    for function in args.functions:
        for result in attack(function, args.quick, args.backend):
            results.append(result)
            lines.append(_row(result))
            print(lines[-1], flush=True)
    failed = [f"{r.function}: {r.case}" for r in results if not r.ok]
    lines += [
        "",
        f"{len(results) - len(failed)} of {len(results)} cases within quota, /healthz within the manifest's"
        " health-check timeout, every answer complete.",
    ]
    print(lines[-1])
    args.page.parent.mkdir(parents=True, exist_ok=True)
    args.page.write_text("\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(result) | {"ok": result.ok} for result in results], indent=2))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
