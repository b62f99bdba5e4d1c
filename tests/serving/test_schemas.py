from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from common.serving.limits import MAX_TEXT_CHARS
from common.serving.schemas import NonEmpty, Text, Vector

TEXT = TypeAdapter(Text)
TEXTS = TypeAdapter(Annotated[list[Text], Field(max_length=3), NonEmpty])


def test_text_accepts_ordinary_and_non_ascii_text() -> None:
    assert TEXT.validate_python("Café 日本語 😀") == "Café 日本語 😀"


@pytest.mark.parametrize(
    ("value", "error_type"),
    [
        ("", "empty"),
        (" \t\n", "empty"),
        ("\u0000\u200b\ufeff\u2060 ", "empty"),
        ("\ud800", "string_unicode"),
        ("x" * (MAX_TEXT_CHARS + 1), "string_too_long"),
    ],
)
def test_text_rejects_unusable_text(value: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TEXT.validate_python(value)
    assert raised.value.errors()[0]["type"] == error_type


@pytest.mark.parametrize(("value", "error_type"), [([], "empty"), (["a"] * 4, "too_long")])
def test_text_lists_are_non_empty_and_bounded(value: list[str], error_type: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TEXTS.validate_python(value)
    assert raised.value.errors()[0]["type"] == error_type


@pytest.mark.parametrize("value", [[], [float("nan")], [float("inf")], [0.0] * 4097])
def test_vector_rejects_empty_non_finite_and_oversized(value: list[float]) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Vector).validate_python(value)
