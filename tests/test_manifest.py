"""manifest.yml, vars/*.yml and .cfignore: a typed model of the Cloud Foundry fields we use, the upload, and
each application's command booted exactly as written with the environment Cloud Foundry provides."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pathspec
import pytest
import yaml
from pydantic import Field

from common.config import PROJECT_ROOT
from common.serving.app import TARGETS
from tests.servers import free_port, get, wait_for
from tools.cloudfoundry import TEST_KEY, VAR, Strict, instance_environment, manifest

VARS_FILES = sorted((PROJECT_ROOT / "vars").glob("*.yml"))
ARTIFACT = ["models/all-MiniLM-L6-v2/model.onnx", "models/all-MiniLM-L6-v2/tokenizer.json"]


def _upload() -> list[str]:
    """The files `cf push` would upload: everything in the checkout not matched by .cfignore."""
    spec = pathspec.GitIgnoreSpec.from_lines((PROJECT_ROOT / ".cfignore").read_text().splitlines())
    files = [str(path.relative_to(PROJECT_ROOT)) for path in PROJECT_ROOT.rglob("*") if path.is_file()]
    return sorted(path for path in files if not spec.match_file(path))


def test_manifest_has_vars_files_for_dev_and_prod() -> None:
    assert {path.stem for path in VARS_FILES} >= {"dev", "prod"}


@pytest.mark.parametrize("vars_file", VARS_FILES, ids=lambda path: path.stem)
def test_manifest_defines_every_var_it_uses_and_no_other(vars_file: Path) -> None:
    used = set(VAR.findall((PROJECT_ROOT / "manifest.yml").read_text()))
    assert used == set(yaml.safe_load(vars_file.read_text())), vars_file


@pytest.mark.parametrize("vars_file", VARS_FILES, ids=lambda path: path.stem)
def test_manifest_gives_each_function_one_internal_route_and_its_own_scale(vars_file: Path) -> None:
    loaded = manifest(vars_file.stem)
    prefix = yaml.safe_load(vars_file.read_text())["prefix"]
    assert [app.name for app in loaded.applications] == [f"{prefix}-{target}" for target in TARGETS]
    for app, target in zip(loaded.applications, TARGETS, strict=True):
        assert app.routes[0].route == f"{prefix}-{target}.apps.internal", app.routes
        assert app.command.startswith(f"exec python -m common.server {target} ") and '--port "$PORT"' in app.command
        assert app.memory_mb < 1024, (target, app.memory)
        assert app.env["HF_HUB_OFFLINE"] == "1" and app.metadata.labels["function"] == target


# simfn-dedupe and what it imports, for `cf run-task` next to the apps.
CSV_TOOL = tuple(f"tools/{name}.py" for name in ("__init__", "dedupe", "neighbour_index", "table", "vector_file"))


def test_cfignore_uploads_what_a_function_needs_and_nothing_else() -> None:
    upload = _upload()
    needed = ["requirements.txt", "runtime.txt", "common/server.py", "functions/embed.py", *ARTIFACT, *CSV_TOOL]
    assert set(needed) <= set(upload), sorted(set(needed) - set(upload))
    # vendor/: the wheels for offline staging, when `make vendor` made them (tests/test_requirements.py).
    allowed = ("common/", "functions/", "models/", "vendor/", "requirements.txt", "runtime.txt", *CSV_TOOL)
    assert not [path for path in upload if not path.startswith(allowed) or "__pycache__" in path]
    # The app bits without the wheels, which the buildpack installs and does not keep in the droplet.
    size_mb = sum((PROJECT_ROOT / path).stat().st_size for path in upload if not path.startswith("vendor/")) / 1e6
    assert size_mb < 200, f"upload is {size_mb:.0f} MB"


def test_runtime_txt_names_the_python_we_test_on() -> None:
    assert (
        PROJECT_ROOT / "runtime.txt"
    ).read_text().strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}.x"


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `cf push` uploads, laid out as /home/vcap/app (hard links, so the model is not copied)."""
    root = tmp_path_factory.mktemp("app")
    for path in _upload():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        os.link(PROJECT_ROOT / path, root / path)
    return root


BODIES = {"embed": {"texts": ["a"]}, "compare": {"text_1": "a", "text_2": "b"}, "cluster": {"texts": ["a", "a"]}}


def _call(port: int, target: str, key: str | None) -> int:
    headers = {"X-API-Key": key} if key else {}
    return get(f"http://127.0.0.1:{port}/", BODIES[target], headers, timeout=30)[0]


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_manifest_command_boots_as_cloud_foundry_runs_it(app_root: Path, tmp_path: Path, target: str) -> None:
    app = manifest("dev").app(target)
    port = free_port()
    env = instance_environment(app, port, tmp_path)
    process = subprocess.Popen(["bash", "-c", app.command], cwd=app_root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", 200, seconds=app.timeout)
        assert (_call(port, target, TEST_KEY), _call(port, target, None)) == (200, 401)
        process.send_signal(signal.SIGTERM)  # reaches the server itself only if the command execs it
        assert process.wait(timeout=9) == 0
    finally:
        process.kill()
        output, _ = process.communicate(timeout=10)
    assert '"message": "drained"' in output, output[-2000:]


class ScalingRule(Strict):
    metric_type: Literal["cpu", "memoryutil", "memoryused"]
    breach_duration_secs: int = Field(ge=60)
    threshold: int
    operator: Literal[">=", "<"]
    cool_down_secs: int = Field(ge=60)
    adjustment: Literal["+1", "-1"]


class ScalingPolicy(Strict):
    instance_min_count: int = Field(ge=1)
    instance_max_count: int
    scaling_rules: list[ScalingRule]


@pytest.mark.parametrize("target", TARGETS)
def test_autoscaler_policy_scales_out_and_back_in(target: str) -> None:
    """Only CPU and memory metrics: internal routes bypass the router that measures throughput and latency."""
    policy = ScalingPolicy.model_validate_json((PROJECT_ROOT / "autoscaler" / f"{target}.json").read_text())
    assert policy.instance_min_count < policy.instance_max_count
    assert {rule.adjustment for rule in policy.scaling_rules} == {"+1", "-1"}


def test_ci_workflow_runs_the_readme_test_command_then_deploys() -> None:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    test_steps = [step.get("run") for step in workflow["jobs"]["test"]["steps"]]
    deploy_steps = [step.get("run") for step in workflow["jobs"]["deploy"]["steps"]]
    assert "make test" in test_steps and "./deploy.sh -e dev" in deploy_steps
    assert workflow["jobs"]["deploy"]["needs"] == "test"


@pytest.mark.parametrize("vars_file", VARS_FILES, ids=lambda path: path.stem)
def test_one_instance_of_each_function_fits_in_one_gigabyte(vars_file: Path) -> None:
    quotas = {app.name: app.memory_mb for app in manifest(vars_file.stem).applications}
    assert sum(quotas.values()) <= 1024, quotas
