"""GET /info on the fake engine: what a client configures itself from, and nothing secret."""

from __future__ import annotations

import pytest

from common import __version__
from common.serving.app import create_app
from common.serving.limits import DEFAULTS
from tests.fakes import DIMENSIONS, fake_runtime


@pytest.mark.parametrize("function", ["embed", "compare", "cluster"])
def test_info_names_models_engine_limits_and_version(function: str) -> None:
    runtime = fake_runtime(api_keys=("secret-key",))
    runtime.models.warm_up()
    response = create_app(function, runtime).test_client().get("/info", headers={"X-API-Key": "secret-key"})
    assert response.status_code == 200, response.text
    info = response.json
    assert info is not None
    assert (info["function"], info["version"]) == (function, __version__)
    model = info["models"][0]
    assert (model["id"], model["default"], model["loaded"], model["dimensions"], model["engine"]) == (
        "all-MiniLM-L6-v2",
        True,
        True,
        DIMENSIONS,
        "fake",
    )
    assert info["limits"]["items"] == DEFAULTS[function].items and info["encoding_formats"] == ["float", "base64"]
    assert "secret-key" not in response.text


def test_info_gives_each_models_default_thresholds() -> None:
    runtime = fake_runtime(api_keys=("k",), model_thresholds={"all-MiniLM-L6-v2": (0.8, None)})
    info = create_app("compare", runtime).test_client().get("/info", headers={"X-API-Key": "k"}).json
    assert info is not None
    expected = {"duplicate": 0.8, "cluster": runtime.settings.cluster_threshold}
    assert info["models"][0]["thresholds"] == info["thresholds"] == expected, info


def test_info_needs_the_key() -> None:
    runtime = fake_runtime(api_keys=("secret-key",))
    assert create_app("embed", runtime).test_client().get("/info").status_code == 401
