"""The production set's supply chain: a CycloneDX SBOM of requirements.txt and its known vulnerabilities.

python -m tools.audit [--requirements requirements.txt] [--sbom reports/sbom.cdx.json] [--allow-unaudited]

Writes the SBOM (cyclonedx-py, from the pins alone, offline), then asks pip-audit (PyPI's vulnerability data)
about every pinned package. Fails on any known vulnerability, and on any package it could not audit (pip-audit
itself exits 0 then) unless --allow-unaudited: where PyPI's JSON API is out of reach, say so instead of passing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.config import PROJECT_ROOT


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    detail: str  # the vulnerability ids and fixed versions, or why it was not audited


def pins(requirements: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line]


def write_sbom(requirements: Path, out: Path) -> int:
    """The SBOM's component count, which must be one per pin."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cyclonedx_py", "requirements", str(requirements), "--of", "JSON", "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    components = len(json.loads(out.read_text())["components"])
    if components != len(pins(requirements)):
        raise SystemExit(f"SBOM lists {components} components for {len(pins(requirements))} pins in {requirements}")
    return components


def audit(requirements: Path) -> tuple[list[Finding], list[Finding]]:
    """(vulnerable, not audited) packages of the pinned set."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(requirements),
        "--no-deps",
        "--disable-pip",
        "-f",
        "json",
        "--progress-spinner",
        "off",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 1) or not result.stdout.strip():  # it could not reach the service at all
        reason = (result.stderr.strip().splitlines() or [f"pip-audit exited {result.returncode}"])[-1][-300:]
        named = (pin.split("==", 1) for pin in pins(requirements))
        return [], [Finding(name, version, reason) for name, version in named]
    return findings(json.loads(result.stdout))


def findings(report: dict[str, Any]) -> tuple[list[Finding], list[Finding]]:
    """(vulnerable, not audited) from pip-audit's JSON report."""
    vulnerable, unaudited = [], []
    for dependency in report["dependencies"]:
        name, version = dependency["name"], dependency.get("version", "?")
        if "skip_reason" in dependency:
            unaudited.append(Finding(name, version, dependency["skip_reason"]))
        elif dependency.get("vulns"):
            ids = ", ".join(
                f"{v['id']} (fixed in {', '.join(v['fix_versions']) or 'no release'})" for v in dependency["vulns"]
            )
            vulnerable.append(Finding(name, version, ids))
    return vulnerable, unaudited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=PROJECT_ROOT / "requirements.txt")
    parser.add_argument("--sbom", type=Path, default=PROJECT_ROOT / "reports" / "sbom.cdx.json")
    parser.add_argument("--allow-unaudited", action="store_true", help="report, not fail, what could not be audited")
    args = parser.parse_args()
    components = write_sbom(args.requirements, args.sbom)
    print(f"SBOM: {args.sbom} (CycloneDX, {components} components)")
    vulnerable, unaudited = audit(args.requirements)
    for finding in vulnerable:
        print(f"VULNERABLE {finding.package} {finding.version}: {finding.detail}")
    if unaudited:
        first = unaudited[0]
        print(f"NOT AUDITED: {len(unaudited)} of {components} packages, e.g. {first.package}: {first.detail}")
        print("  (PyPI's vulnerability data, https://pypi.org/pypi/<name>/<version>/json, was out of reach)")
    audited = components - len(unaudited)
    print(f"audited {audited} of {components} packages: {len(vulnerable)} with known vulnerabilities")
    if vulnerable or (unaudited and not args.allow_unaudited):
        sys.exit(1)


if __name__ == "__main__":
    main()
