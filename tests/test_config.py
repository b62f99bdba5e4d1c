from __future__ import annotations

import json

import pytest

from common.config import DEFAULT_MODEL, PROJECT_ROOT, Settings, SettingsError, settings_table, specs


def test_settings_defaults_without_environment() -> None:
    settings = Settings.from_environ({})
    assert (settings.backend, settings.precision, settings.model) == ("auto", "auto", DEFAULT_MODEL)
    assert settings.model_dirs == {DEFAULT_MODEL: PROJECT_ROOT / "models" / DEFAULT_MODEL}
    assert settings == Settings(), "from_environ({}) must agree with the dataclass defaults"


def test_settings_read_from_environment() -> None:
    env = {"SIMFN_BACKEND": "onnxruntime", "SIMFN_TEXT_CACHE_MB": "0", "SIMFN_DUPLICATE_THRESHOLD": "0.7"}
    settings = Settings.from_environ(env)
    assert (settings.backend, settings.text_cache_mb, settings.duplicate_threshold) == ("onnxruntime", 0, 0.7)


def test_settings_model_allow_list_maps_ids_to_folders() -> None:
    settings = Settings.from_environ({"SIMFN_MODELS": "a=models/a, b=/abs/b", "SIMFN_MODEL": "b"})
    assert settings.model_dirs == {"a": PROJECT_ROOT / "models/a", "b": PROJECT_ROOT / "/abs/b"}
    assert settings.model == "b"


def test_settings_thresholds_are_per_model_with_the_services_as_fallback() -> None:
    env = {"SIMFN_MODELS": "a=models/a,b=models/b", "SIMFN_MODEL": "a", "SIMFN_MODEL_THRESHOLDS": "b=0.82/, a=/0.7"}
    settings = Settings.from_environ(env)
    assert (settings.thresholds("b").duplicate, settings.thresholds("b").cluster) == (0.82, settings.cluster_threshold)
    assert settings.thresholds(None) == settings.thresholds("a")
    assert (settings.thresholds("a").duplicate, settings.thresholds("a").cluster) == (settings.duplicate_threshold, 0.7)


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
        ({"SIMFN_DUPLICATE_THRESHOLD": "1.5"}, "from -1.0 to 1.0"),
        ({"SIMFN_CLUSTER_THRESHOLD": "high"}, "expected a number"),
        ({"SIMFN_MODELS": "no-folder"}, "id=folder"),
        ({"SIMFN_MODEL": "other"}, "not in SIMFN_MODELS"),
        ({"SIMFN_MODEL_THRESHOLDS": "all-MiniLM-L6-v2=0.8"}, "id=duplicate/cluster"),
        ({"SIMFN_MODEL_THRESHOLDS": "all-MiniLM-L6-v2=0.8/2"}, "from -1.0 to 1.0"),
        ({"SIMFN_MODEL_THRESHOLDS": "other=0.8/0.7"}, "'other' is not in SIMFN_MODELS"),
    ],
)
def test_settings_reject_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ(env)


def _vcap(credentials: dict[str, str], name: str = "simfn-api-key") -> str:
    return json.dumps({"user-provided": [{"name": name, "credentials": credentials}]})


@pytest.mark.parametrize(
    ("env", "keys"),
    [
        ({}, ()),
        ({"SIMFN_API_KEYS": "k1"}, ("k1",)),
        ({"SIMFN_API_KEYS": "k1, k2"}, ("k1", "k2")),
        ({"VCAP_SERVICES": _vcap({"api_key": "new", "previous_api_key": "old"})}, ("new", "old")),
        ({"VCAP_SERVICES": _vcap({"api_key": "k"}, "other"), "SIMFN_KEY_SERVICE": "other"}, ("k",)),
        ({"VCAP_SERVICES": _vcap({"api_key": "k"}, "unrelated")}, ()),
        ({"VCAP_SERVICES": _vcap({"api_key": "vcap"}), "SIMFN_API_KEYS": "env"}, ("env",)),
    ],
)
def test_settings_read_api_keys_from_environment_or_vcap_services(env: dict[str, str], keys: tuple[str, ...]) -> None:
    assert Settings.from_environ(env).api_keys == keys


def test_settings_never_show_keys() -> None:
    assert "secret" not in repr(Settings.from_environ({"SIMFN_API_KEYS": "secret"}))


def test_settings_keep_two_threads_beside_inference() -> None:
    settings = Settings.from_environ({"SIMFN_MAX_INFLIGHT": "3", "SIMFN_SMALL_INFLIGHT": "5"})
    assert settings.threads == 3 + 5 + 2 + 4
    with pytest.raises(SettingsError, match="at least SIMFN_MAX_INFLIGHT \\+ SIMFN_SMALL_INFLIGHT \\+ 2 = 10"):
        Settings.from_environ({"SIMFN_MAX_INFLIGHT": "3", "SIMFN_SMALL_INFLIGHT": "5", "SIMFN_THREADS": "9"})


def test_every_setting_is_declared_once_with_a_distinct_variable() -> None:
    variables = [spec.variable for spec in specs().values()]
    assert len(variables) == len(set(variables)) and all(v.startswith("SIMFN_") for v in variables), variables


def test_readme_settings_table_is_the_declared_one() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert settings_table() in readme, "README's settings table differs: paste `python -m common.config`"
