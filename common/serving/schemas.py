"""Request and response building blocks shared by the functions, with their limits declared once."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, FiniteFloat, StringConstraints
from pydantic_core import PydanticCustomError

from common.serving.limits import MAX_TEXT_CHARS, MAX_VECTOR_VALUES
from common.vectors import base64_rows

T = TypeVar("T")


# Control and format characters (NUL, zero-width space, BOM, word joiner, ...) show nothing.
INVISIBLE = frozenset(("Cc", "Cf"))


def _not_blank(text: str) -> str:
    # Stops at the first visible character: a long real text costs one look.
    if all(char.isspace() or unicodedata.category(char) in INVISIBLE for char in text):
        raise PydanticCustomError("empty", "text must not be empty or only whitespace or invisible characters")
    return text


def _non_empty(items: list[T]) -> list[T]:
    if not items:
        raise PydanticCustomError("empty", "the list must not be empty")
    return items


# The length cap is checked before the text ever reaches the tokenizer; pydantic rejects lone surrogates.
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS), AfterValidator(_not_blank)]
Vector = Annotated[list[FiniteFloat], Field(min_length=1, max_length=MAX_VECTOR_VALUES)]
# Wherever vectors go, one base64 string of little-endian float32 rows may go instead (about a quarter of the
# bytes, decoded without building Python floats); the body limit bounds it.
Base64 = Annotated[str, Field(min_length=1, description="base64 of little-endian float32, row after row")]
OneVector = Vector | Base64
Threshold = Annotated[float, Field(ge=-1.0, le=1.0, description="cosine similarity, -1 to 1")]
ReviewThreshold = Annotated[
    float,
    Field(
        ge=-1.0,
        le=1.0,
        description="cosine at or above which, below the duplicate threshold, a match is `possible`: for a person "
        "to confirm; absent: no band (the answer carries no verdicts)",
    ),
]
Verdict = Literal["duplicate", "possible"]
ItemId = str | int
ModelName = Annotated[str | None, Field(description="an allow-listed model id; the service's model when absent")]


# An empty list is the client's "nothing to do" mistake (400 empty), not a shape error.
NonEmpty = AfterValidator(_non_empty)
ManyVectors = Annotated[list[OneVector], NonEmpty] | Base64
EncodingFormat = Annotated[
    Literal["float", "base64"], Field(description="`base64`: the vectors as one base64 string of float32 rows")
]


def vector_count(vectors: list[OneVector] | str | None, dimensions: int) -> int:
    """How many vectors a ManyVectors field holds, counted before decoding."""
    if isinstance(vectors, str):
        return base64_rows(vectors, dimensions)
    return len(vectors or ())


class TextItem(BaseModel):
    """A text with the caller's id for it, e.g. a goal's database key."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: ItemId
    text: Text


class Request(BaseModel):
    """Strict: unknown fields and type coercions are errors, not guesses."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def item_count(self, dimensions: int) -> int:
        """Items the request asks for, checked against the function's limit (vectors have `dimensions` each)."""
        return 1

    def _exactly_one(self, *fields: str) -> None:
        """Raise (a 422) unless exactly one of the fields was given."""
        if sum(getattr(self, name) is not None for name in fields) != 1:
            raise ValueError(f"give exactly one of {', '.join(fields)}")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> bytes:
        """The response body; fields left unset (None) are left out."""
        return self.model_dump_json(exclude_none=True).encode()
