from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient

from common.runtime import Runtime, get_runtime
from common.serving.app import create_app
from tests.fakes import fake_runtime

# Nothing may be fetched from a model hub, in tests as on cloud.gov.
os.environ["HF_HUB_OFFLINE"] = "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the real model is slow, whether it asks for it directly or through a client fixture."""
    for item in items:
        if "real_runtime" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def real_runtime() -> Runtime:
    """The process runtime with the real model, loaded and warmed once for the session."""
    runtime = get_runtime()
    runtime.models.warm_up()
    return runtime


@pytest.fixture(scope="session")
def embed_client(real_runtime: Runtime) -> FlaskClient:
    return create_app("embed", real_runtime).test_client()


@pytest.fixture(scope="session")
def compare_client(real_runtime: Runtime) -> FlaskClient:
    return create_app("compare", real_runtime).test_client()


@pytest.fixture(scope="session")
def cluster_client(real_runtime: Runtime) -> FlaskClient:
    return create_app("cluster", real_runtime).test_client()


def _fake_client(target: str) -> FlaskClient:
    runtime = fake_runtime()
    runtime.models.warm_up()
    return create_app(target, runtime).test_client()


@pytest.fixture
def fake_embed_client() -> FlaskClient:
    """embed on the fake engine: the request contract in milliseconds, never proof of the product."""
    return _fake_client("embed")


@pytest.fixture
def fake_compare_client() -> FlaskClient:
    return _fake_client("compare")


@pytest.fixture
def fake_cluster_client() -> FlaskClient:
    return _fake_client("cluster")
