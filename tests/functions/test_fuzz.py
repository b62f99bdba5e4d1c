"""Schemathesis against each function's own /openapi.json, on the real model: no 5xx, no off-schema answer."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from common.runtime import Runtime
from common.serving.app import TARGETS, create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_function_against_its_openapi(real_runtime: Runtime, target: str, mode: GenerationMode) -> None:
    operation = schemathesis.openapi.from_wsgi("/openapi.json", create_app(target))["/"]["POST"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    fuzz()
