"""deploy.sh against a stub `cf` (and `make`) first on PATH that records every call and can be told to fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT

STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
if [[ -n "${STUB_FAIL:-}" && "$(basename "$0") $*" == *"$STUB_FAIL"* ]]; then echo "FAILED" >&2; exit 1; fi
case "$1" in
  network-policies)
    echo "Listing network policies of app $3 as deployer..."
    echo
    echo "source   destination   protocol   ports   destination space   destination org"
    cat "$STUB_STATE" 2>/dev/null || true ;;
  add-network-policy) echo "$2   $3   tcp   $7   space   org" >> "$STUB_STATE" ;;
esac
"""
SETTINGS = {"DEPLOY_ENV": "dev", "CF_ORG": "gsa-org", "CF_SPACE": "simfn-dev", "NODE_APP": "ttahub"}
PUSH = "cf push simfn-dev-{} -f manifest.yml --vars-file vars/dev.yml --strategy rolling"
# TLS only, by default: on 61443 the platform terminates TLS in front of the app; 8080 is plain HTTP.
POLICY = "cf add-network-policy ttahub simfn-dev-{} --protocol tcp --port 61443"
PLAIN_POLICY = "cf add-network-policy ttahub simfn-dev-{} --protocol tcp --port 8080"
START = ["cf target -o gsa-org -s simfn-dev", "cf service simfn-api-key"]
POLICIES = "cf network-policies --source ttahub"


class Deploy:
    def __init__(self, tmp_path: Path, root: Path = PROJECT_ROOT) -> None:
        self.bin, self.log, self.state, self.root = tmp_path / "bin", tmp_path / "calls", tmp_path / "state", root
        self.bin.mkdir()
        for tool in ("cf", "make"):
            (self.bin / tool).write_text(STUB)
            (self.bin / tool).chmod(0o755)

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {"PATH": f"{self.bin}:{os.environ['PATH']}", "STUB_LOG": str(self.log), "STUB_STATE": str(self.state)}
        return subprocess.run(
            [str(self.root / "deploy.sh"), *args],
            env={**environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def deploy(tmp_path: Path) -> Deploy:
    return Deploy(tmp_path)


def test_deploy_pushes_every_function_then_allows_the_node_app(deploy: Deploy) -> None:
    result = deploy(**SETTINGS)
    assert result.returncode == 0, result.stderr
    functions = ["embed", "compare", "cluster"]
    expected = START + [PUSH.format(f) for f in functions] + [POLICIES] + [POLICY.format(f) for f in functions]
    assert deploy.calls() == expected


def test_deploy_pushes_only_the_functions_named(deploy: Deploy) -> None:
    result = deploy("-e", "dev", "-o", "gsa-org", "-s", "simfn-dev", "-n", "ttahub", "compare")
    assert result.returncode == 0, result.stderr
    assert deploy.calls() == [*START, PUSH.format("compare"), POLICIES, POLICY.format("compare")]


def test_deploy_cancels_a_failed_push_and_stops(deploy: Deploy) -> None:
    result = deploy(**SETTINGS, STUB_FAIL="push simfn-dev-compare")
    assert result.returncode == 1 and "push of simfn-dev-compare failed" in result.stderr, result.stderr
    expected = [*START, PUSH.format("embed"), PUSH.format("compare"), "cf cancel-deployment simfn-dev-compare"]
    assert deploy.calls() == expected


def test_deploy_twice_adds_no_policy_the_second_time(deploy: Deploy) -> None:
    assert deploy(**SETTINGS).returncode == 0
    first = len(deploy.calls())
    assert deploy(**SETTINGS).returncode == 0
    assert not [call for call in deploy.calls()[first:] if "add-network-policy" in call]


@pytest.mark.parametrize("missing", sorted(SETTINGS))
def test_deploy_fails_before_any_cf_call_without_a_setting(deploy: Deploy, missing: str) -> None:
    result = deploy(**{name: value for name, value in SETTINGS.items() if name != missing})
    assert (result.returncode, deploy.calls()) == (2, []), result.stderr
    assert missing in result.stderr and "usage: deploy.sh" in result.stderr, result.stderr


@pytest.mark.parametrize(("args", "message"), [(["nope"], "unknown function 'nope'"), (["-x"], "usage")])
def test_deploy_rejects_bad_arguments_before_any_cf_call(deploy: Deploy, args: list[str], message: str) -> None:
    result = deploy(*args, **SETTINGS)
    assert (result.returncode, deploy.calls()) == (2, []) and message in result.stderr, result.stderr


def test_deploy_fails_clearly_without_the_key_service(deploy: Deploy) -> None:
    result = deploy(**SETTINGS, STUB_FAIL="cf service")
    assert result.returncode == 2 and "no service 'simfn-api-key'" in result.stderr, result.stderr
    assert deploy.calls() == START


def test_deploy_logs_in_without_putting_the_password_on_a_command_line(deploy: Deploy) -> None:
    result = deploy("embed", **SETTINGS, CF_USERNAME="deployer", CF_PASSWORD="s3cret")
    assert result.returncode == 0, result.stderr
    assert deploy.calls()[:3] == ["cf api https://api.fr.cloud.gov", "cf auth", START[0]]
    assert "s3cret" not in deploy.log.read_text()


def test_deploy_builds_the_artifact_when_it_is_missing(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("deploy.sh", "manifest.yml", "vars"):
        (shutil.copytree if name == "vars" else shutil.copy2)(PROJECT_ROOT / name, root / name)
    deploy = Deploy(tmp_path, root)
    assert deploy("embed", **SETTINGS).returncode == 0
    assert deploy.calls()[2:4] == ["make --no-print-directory artifact", PUSH.format("embed")]


def test_deploy_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    result = subprocess.run([shellcheck, str(PROJECT_ROOT / "deploy.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_deploy_allows_plain_http_only_when_asked(deploy: Deploy) -> None:
    result = deploy("-P", "compare", **SETTINGS)
    assert result.returncode == 0, result.stderr
    assert deploy.calls()[-2:] == [POLICY.format("compare"), PLAIN_POLICY.format("compare")]


def test_deploy_stages_offline_from_a_fresh_vendor_folder_when_asked(deploy: Deploy) -> None:
    result = deploy("-V", "embed", **SETTINGS)
    assert result.returncode == 0 and "staging offline from vendor/" in result.stdout, result.stderr
    calls = deploy.calls()
    assert calls.index("make --no-print-directory vendor") < calls.index(PUSH.format("embed")), calls
