"""manifest.yml as Cloud Foundry reads it, and the environment Cloud Foundry gives an instance.

A typed model of the fields we use, `((var))` interpolation as the cf CLI does it, and an instance's
environment (PORT, VCAP_APPLICATION, VCAP_SERVICES with the key service, MEMORY_LIMIT, the app's env),
so tests and benchmarks boot each app's command exactly as written, here on loopback.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from common.config import KEY_SERVICE, PROJECT_ROOT

VAR = re.compile(r"\(\(([a-z_]+)\)\)")
TEST_KEY = "test-key"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class Route(Strict):
    route: str


class Metadata(Strict):
    labels: dict[str, str]


class App(Strict):
    name: str
    buildpacks: list[Literal["python_buildpack"]]
    stack: Literal["cflinuxfs4"]
    memory: str = Field(pattern=r"^\d+[MG]$")
    disk_quota: str = Field(pattern=r"^\d+[MG]$")
    instances: int = Field(ge=1)
    command: str
    timeout: int = Field(ge=30, le=180)
    health_check_type: Literal["http"] = Field(alias="health-check-type")
    health_check_http_endpoint: Literal["/healthz"] = Field(alias="health-check-http-endpoint")
    health_check_invocation_timeout: int = Field(alias="health-check-invocation-timeout", gt=1)
    readiness_health_check_type: Literal["http"] = Field(alias="readiness-health-check-type")
    readiness_health_check_http_endpoint: Literal["/readyz"] = Field(alias="readiness-health-check-http-endpoint")
    readiness_health_check_invocation_timeout: int = Field(alias="readiness-health-check-invocation-timeout", gt=1)
    routes: list[Route] = Field(min_length=1, max_length=1)
    services: list[str]
    env: dict[str, str]
    metadata: Metadata

    @property
    def memory_mb(self) -> int:
        return megabytes(self.memory)


class Manifest(Strict):
    applications: list[App]

    def app(self, function: str) -> App:
        """The app whose metadata names this function."""
        return next(app for app in self.applications if app.metadata.labels["function"] == function)


def megabytes(size: str) -> int:
    return int(size[:-1]) * (1024 if size.endswith("G") else 1)


def _interpolate(node: object, variables: dict[str, object]) -> object:
    """As the cf CLI does: a value that is only ((var)) takes the var's value and type; else text is replaced."""
    if isinstance(node, dict):
        return {key: _interpolate(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate(value, variables) for value in node]
    if isinstance(node, str) and (whole := VAR.fullmatch(node)):
        return variables[whole.group(1)]
    if isinstance(node, str):
        return VAR.sub(lambda match: str(variables[match.group(1)]), node)
    return node


def manifest(environment: str = "prod") -> Manifest:
    """manifest.yml with vars/<environment>.yml applied."""
    variables = yaml.safe_load((PROJECT_ROOT / "vars" / f"{environment}.yml").read_text())
    raw = yaml.safe_load((PROJECT_ROOT / "manifest.yml").read_text())
    return Manifest.model_validate(_interpolate(raw, variables))


def instance_environment(app: App, port: int, home: Path, key: str = TEST_KEY) -> dict[str, str]:
    """What Cloud Foundry sets for an instance of `app`, with the key service bound; SIMFN_HOST keeps it local."""
    services = {"user-provided": [{"name": KEY_SERVICE, "label": "user-provided", "credentials": {"api_key": key}}]}
    application = {"application_name": app.name, "instance_index": 0, "limits": {"mem": app.memory_mb}}
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "PORT": str(port),
        "VCAP_APPLICATION": json.dumps(application),
        "VCAP_SERVICES": json.dumps(services),
        "MEMORY_LIMIT": app.memory,
        "SIMFN_HOST": "127.0.0.1",
        **app.env,
    }
