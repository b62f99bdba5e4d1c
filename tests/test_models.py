from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from common.config import DEFAULT_MODEL, Settings
from common.engines import choice
from common.engines.base import Engine
from common.models import ModelRegistry, UnknownModelError
from common.runtime import Runtime
from common.serving.app import TARGETS, create_app
from tests.fakes import FakeEngine, fake_settings


class CountingLoader:
    def __init__(self, delay: float = 0.0) -> None:
        self.loaded: list[Path] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, folder: Path, settings: Settings) -> Engine:
        time.sleep(self.delay)
        with self._lock:
            self.loaded.append(folder)
        return FakeEngine()


def _registry(loader: CountingLoader, **overrides: object) -> ModelRegistry:
    dirs = {DEFAULT_MODEL: Path("/m/default"), "other": Path("/m/other")}
    return ModelRegistry(fake_settings(model_dirs=dirs, **overrides), loader=loader)


def test_registry_loads_a_model_once_under_concurrent_first_requests() -> None:
    loader = CountingLoader(delay=0.2)
    registry = _registry(loader)
    with ThreadPoolExecutor(8) as pool:
        encoders = list(pool.map(lambda _: registry.get(), range(8)))
    assert loader.loaded == [Path("/m/default")]
    assert all(encoder is encoders[0] for encoder in encoders)


@pytest.mark.parametrize("name", ["unknown", "/m/default", "../models/all-MiniLM-L6-v2", "/etc/passwd"])
def test_registry_refuses_models_off_the_allow_list(name: str) -> None:
    loader = CountingLoader()
    with pytest.raises(UnknownModelError, match=f"one of: {DEFAULT_MODEL}, other$"):
        _registry(loader).get(name)
    assert loader.loaded == []


def test_registry_evicts_the_least_recently_used_model() -> None:
    loader = CountingLoader()
    registry = _registry(loader, max_loaded_models=1)
    registry.get()
    registry.get("other")
    registry.get()
    assert loader.loaded == [Path("/m/default"), Path("/m/other"), Path("/m/default")]


def test_registry_is_ready_only_after_warm_up() -> None:
    registry = _registry(CountingLoader())
    assert not registry.ready
    registry.warm_up()
    assert registry.ready


def test_registry_background_warm_up_runs_once() -> None:
    loader = CountingLoader(delay=0.1)
    registry = _registry(loader)
    registry.start_warm_up()
    registry.start_warm_up()
    registry.get()
    assert loader.loaded == [Path("/m/default")]


def test_registry_warm_up_failure_reports_and_leaves_it_not_ready() -> None:
    def broken(folder: Path, settings: Settings) -> Engine:
        raise RuntimeError("corrupt")

    failed = threading.Event()
    registry = ModelRegistry(fake_settings(), loader=broken)
    registry.start_warm_up(on_failure=failed.set)
    assert failed.wait(timeout=5), "on_failure was not called"
    assert not registry.ready


@pytest.mark.slow
def test_registry_loads_the_real_model(real_runtime: Runtime) -> None:
    encoder = real_runtime.models.get()
    assert (encoder.model_id, encoder.dimensions) == (DEFAULT_MODEL, 384)
    assert encoder.engine.description.startswith(choice.resolve(real_runtime.settings.backend))
    assert real_runtime.models.ready


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The real default model and a small exported one (16-d, CLS + Dense), at most one loaded at a time."""
    from tools import tiny
    from tools.export import export

    folder = tmp_path_factory.mktemp("tiny")
    artifact = export(str(tiny.build(folder, "bert", "cls", dense=True)), "tiny", folder / "artifact")
    default = Settings().model_dirs[DEFAULT_MODEL]
    env = {"SIMFN_MODELS": f"{DEFAULT_MODEL}={default},tiny={artifact}", "SIMFN_MAX_LOADED_MODELS": "1"}
    return Runtime.from_settings(Settings.from_environ(env))


@pytest.mark.slow
def test_one_app_serves_two_models_through_every_function(two_models: Runtime) -> None:
    embed, compare, cluster = (create_app(target, two_models).test_client() for target in TARGETS)
    texts = ["Hold monthly parent workshops", "Run workshops for parents every month", "Reduce staff turnover"]
    for model, dimensions in ((DEFAULT_MODEL, 384), ("tiny", 16), (DEFAULT_MODEL, 384)):
        body = embed.post("/", json={"texts": texts, "model": model}).json
        assert body is not None and (body["model"], body["dimensions"]) == (model, dimensions), body
        vectors = body["embeddings"]
        pairs = compare.post("/", json={"embeddings": vectors, "threshold": -1, "model": model})
        groups = cluster.post("/", json={"embeddings": vectors, "threshold": -1, "model": model})
        assert (pairs.status_code, len(pairs.get_json()["pairs"]), groups.status_code) == (200, 3, 200), pairs.text
    wrong = compare.post("/", json={"query_embedding": [0.1] * 384, "candidates": ["a"], "model": "tiny"})
    assert (wrong.status_code, wrong.get_json()["error_type"]) == (422, "invalid_vector"), wrong.text


@pytest.mark.slow
def test_the_lru_of_models_evicts_and_reloads_under_concurrent_requests(two_models: Runtime) -> None:
    def encode(index: int) -> tuple[str, int]:
        model = "tiny" if index % 2 else DEFAULT_MODEL
        encoder = two_models.models.get(model)
        return model, encoder.encode([f"goal {index}"]).shape[1]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(encode, range(40)))
    assert all(dimensions == (16 if model == "tiny" else 384) for model, dimensions in answers), answers
    assert len(two_models.models.loaded()) == 1
