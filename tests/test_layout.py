"""docs/layout.md's import rules, checked on the source: imports only point down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT

# (files, what they must not import); a file obeys every rule whose pattern matches it.
PURE_MATHS = ("common.engines", "common.serving", "common.models", "pydantic", "flask")
RULES = [
    ("common/**/*.py", ("tests", "bench", "eval", "tools")),
    ("common/vectors.py", PURE_MATHS),
    ("common/similarity.py", PURE_MATHS),
    ("common/clustering.py", PURE_MATHS),
    ("common/models.py", ("common.serving", "flask", "pydantic")),
    ("common/encoder.py", ("common.serving", "flask", "pydantic")),
    ("common/engines/*.py", ("common.serving", "torch", "sentence_transformers")),
    ("common/serving/*.py", ("torch", "sentence_transformers", "common.engines.openvino", "common.engines.onnx")),
    ("bench/*.py", ("tests", "functions", "eval")),
    ("eval/*.py", ("tests", "functions", "bench")),
    ("tools/*.py", ("tests", "bench", "eval")),
]
# The opt-in backend is the one engine that needs torch.
EXEMPT = {("common/engines/sentence_transformers.py", "sentence_transformers")}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _forbidden() -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    for pattern, names in RULES:
        for path in PROJECT_ROOT.glob(pattern):
            rules.setdefault(str(path.relative_to(PROJECT_ROOT)), set()).update(names)
    return rules


FORBIDDEN = _forbidden()


@pytest.mark.parametrize("path", sorted(FORBIDDEN))
def test_module_imports_only_what_its_layer_may(path: str) -> None:
    wrong = sorted(
        name
        for name in _imports(PROJECT_ROOT / path)
        if any(name == rule or name.startswith(rule + ".") for rule in FORBIDDEN[path])
        and not any(path == exempt and name.startswith(module) for exempt, module in EXEMPT)
    )
    assert wrong == [], f"{path} imports {wrong} (docs/layout.md)"
