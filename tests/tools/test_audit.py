from __future__ import annotations

import json
import subprocess
from pathlib import Path
from unittest import mock

from tools.audit import audit, findings, pins, write_sbom


def test_findings_separate_vulnerable_from_unaudited_packages() -> None:
    report = {
        "dependencies": [
            {"name": "good", "version": "1.0", "vulns": []},
            {"name": "bad", "version": "2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.1"]}]},
            {"name": "unknown", "version": "3.0", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    vulnerable, unaudited = findings(report)
    assert [(f.package, f.detail) for f in vulnerable] == [("bad", "PYSEC-1 (fixed in 2.1)")]
    assert [f.package for f in unaudited] == ["unknown"]


def test_the_sbom_lists_every_pinned_production_package(tmp_path: Path) -> None:
    requirements = Path(__file__).resolve().parents[2] / "requirements.txt"
    out = tmp_path / "sbom.json"
    assert write_sbom(requirements, out) == len(pins(requirements)) > 20
    sbom = json.loads(out.read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    assert {c["purl"] for c in sbom["components"]} >= {"pkg:pypi/waitress@3.0.2", "pkg:pypi/onnxruntime@1.31.1"}


def test_an_unreachable_vulnerability_service_leaves_every_package_unaudited(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nwaitress==3.0.2\nnumpy==2.4.6\n")
    failing = subprocess.CompletedProcess([], 2, stdout="", stderr="Traceback ...\nSSLError: no route to pypi.org\n")
    with mock.patch("tools.audit.subprocess.run", return_value=failing):
        vulnerable, unaudited = audit(requirements)
    assert vulnerable == []
    assert [(f.package, f.version) for f in unaudited] == [("waitress", "3.0.2"), ("numpy", "2.4.6")]
    assert "SSLError" in unaudited[0].detail
