"""A cluster named by ``es_hosts`` is someone else's: ``start`` waits for it, starts and stops
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcsim.services import elasticsearch
from rtcsim.services.errors import ElasticsearchStartupError
from tests.es_matrix import Nodes

from .conftest import make_settings
from .test_elasticsearch_errors import free_port


def test_an_existing_cluster_that_never_answers_is_named_with_what_to_check(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(tmp_path, es_hosts=[url])
    with pytest.raises(ElasticsearchStartupError) as caught:
        elasticsearch.start(settings, timeout_s=1.0, maven_repository=tmp_path / "m2")
    assert f"the Elasticsearch at {url} never reached yellow" in str(caught.value)
    assert "es_hosts names a cluster rtcsim does not run" in str(caught.value)
    assert not (tmp_path / "m2").exists(), "nothing is downloaded for someone else's cluster"


@pytest.mark.integration
def test_an_existing_cluster_is_used_as_it_is(tmp_path: Path, es_nodes: Nodes) -> None:
    node = es_nodes.get(8)
    settings = make_settings(tmp_path, es_hosts=[f"http://127.0.0.1:{free_port()}", node.es_url])
    status = elasticsearch.start(settings, maven_repository=tmp_path / "m2")
    assert status.reused
    assert status.pid is None
    assert status.cluster_status in ("green", "yellow")
    assert elasticsearch.stop(settings) is False
    assert elasticsearch.cluster_health(node) is not None, "the cluster still runs"
