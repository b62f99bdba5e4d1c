from __future__ import annotations

import pytest

from common.serving.auth import authenticate
from common.serving.errors import ApiError

KEYS = ("new", "old")


@pytest.mark.parametrize(
    ("api_key", "authorization"), [("new", None), ("old", None), (None, "Bearer new"), (None, "bearer old")]
)
def test_authenticate_accepts_either_key_in_either_header(api_key: str | None, authorization: str | None) -> None:
    authenticate(api_key, authorization, KEYS)


@pytest.mark.parametrize(
    ("api_key", "authorization"),
    [(None, None), ("", None), ("newer", None), (None, "Bearer"), (None, "Basic new"), (None, "Bearer ne")],
)
def test_authenticate_rejects_a_missing_or_wrong_key(api_key: str | None, authorization: str | None) -> None:
    with pytest.raises(ApiError) as caught:
        authenticate(api_key, authorization, KEYS)
    assert (caught.value.status, caught.value.error_type) == (401, "unauthorized")
    assert "new" not in caught.value.message


def test_authenticate_is_open_without_keys() -> None:
    authenticate(None, None, ())
