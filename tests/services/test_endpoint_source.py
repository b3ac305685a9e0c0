"""The endpoint's source travels from the environment to the app's explanations
(pail.services.explain): the detail pane says which variable set the endpoint."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pail.drivers.errors import EndpointUnreachable
from pail.services.explain import explain
from pail.services.locations import open_spec, read_target
from support.servers import free_port


def test_the_apps_explanation_names_the_variable() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    env = {"MLFLOW_S3_ENDPOINT_URL": dead, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    target = read_target("s3://b/", environ=env)
    assert (target.spec.endpoint_url, target.spec.endpoint_source) == (
        dead,
        "MLFLOW_S3_ENDPOINT_URL",
    )
    spec = replace(target.spec, client_options={"max_attempts": 1, "connect_timeout": 2})
    opened = open_spec(spec, environ=env)
    with pytest.raises(EndpointUnreachable) as caught:
        opened.driver.list_page("b")
    error = caught.value
    assert error.endpoint_source == "MLFLOW_S3_ENDPOINT_URL"
    assert "The endpoint came from MLFLOW_S3_ENDPOINT_URL." in error.hint
    result = explain(error, spec=opened.resolved.spec)
    assert "The endpoint came from MLFLOW_S3_ENDPOINT_URL." in result.details


def test_the_apps_connections_from_the_environment_are_checked_too() -> None:
    from pail.config.env import EndpointConflict
    from pail.config.flags import Flags
    from pail.core.endpoint import BadEndpoint
    from pail.services.locations import connections_to_open

    with pytest.raises(BadEndpoint, match="the endpoint came from S3_ENDPOINT_URL"):
        connections_to_open([], Flags(), environ={"S3_ENDPOINT_URL": "minio:9000"})
    clash = {"MLFLOW_S3_ENDPOINT_URL": "http://a:1", "S3_ENDPOINT": "http://b:2"}
    with pytest.raises(EndpointConflict):
        connections_to_open([], Flags(), environ=clash)
    # --endpoint-url chooses: the variables are then not read, and the flag is the source.
    (spec,) = connections_to_open([], Flags(endpoint_url="http://c:3"), environ=clash)
    assert (spec.endpoint_url, spec.endpoint_source) == ("http://c:3", "--endpoint-url")
    with pytest.raises(BadEndpoint, match="came from --endpoint-url"):
        connections_to_open([], Flags(endpoint_url="http://c:3/bucket"), environ={})
