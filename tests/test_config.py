from __future__ import annotations

import pytest

from common.config import DEFAULT_MODEL, PROJECT_ROOT, Settings, SettingsError


def test_settings_defaults_without_environment() -> None:
    settings = Settings.from_environ({})
    assert (settings.backend, settings.precision, settings.model) == ("openvino", "auto", DEFAULT_MODEL)
    assert settings.model_dirs == {DEFAULT_MODEL: PROJECT_ROOT / "models" / DEFAULT_MODEL}
    assert settings == Settings(), "from_environ({}) must agree with the dataclass defaults"


def test_settings_read_from_environment() -> None:
    env = {"SIMFN_BACKEND": "onnxruntime", "SIMFN_TEXT_CACHE_SIZE": "0", "SIMFN_DUPLICATE_THRESHOLD": "0.75"}
    settings = Settings.from_environ(env)
    assert (settings.backend, settings.text_cache_size, settings.duplicate_threshold) == ("onnxruntime", 0, 0.75)


def test_settings_model_allow_list_maps_ids_to_folders() -> None:
    settings = Settings.from_environ({"SIMFN_MODELS": "a=models/a, b=/abs/b", "SIMFN_MODEL": "b"})
    assert settings.model_dirs == {"a": PROJECT_ROOT / "models/a", "b": PROJECT_ROOT / "/abs/b"}
    assert settings.model == "b"


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().backend = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SIMFN_BACKEND": "torch"}, "SIMFN_BACKEND"),
        ({"SIMFN_PRECISION": "int8"}, "SIMFN_PRECISION"),
        ({"SIMFN_BATCH_SIZE": "0"}, "at least 1"),
        ({"SIMFN_THREADS": "four"}, "whole number"),
        ({"SIMFN_DUPLICATE_THRESHOLD": "1.5"}, "between -1 and 1"),
        ({"SIMFN_CLUSTER_THRESHOLD": "high"}, "expected a number"),
        ({"SIMFN_MODELS": "no-folder"}, "id=folder"),
        ({"SIMFN_MODEL": "other"}, "not in SIMFN_MODELS"),
    ],
)
def test_settings_reject_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ(env)
