from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient

from common.runtime import Runtime, get_runtime
from common.serving.app import create_app

# Nothing may be fetched from a model hub, in tests as on cloud.gov.
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def real_runtime() -> Runtime:
    """The process runtime with the real model, loaded and warmed once for the session."""
    runtime = get_runtime()
    runtime.models.warm_up()
    return runtime


@pytest.fixture(scope="session")
def embed_client(real_runtime: Runtime) -> FlaskClient:
    return create_app("embed").test_client()


@pytest.fixture(scope="session")
def compare_client(real_runtime: Runtime) -> FlaskClient:
    return create_app("compare").test_client()


@pytest.fixture(scope="session")
def cluster_client(real_runtime: Runtime) -> FlaskClient:
    return create_app("cluster").test_client()
