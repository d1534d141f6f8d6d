"""Both stores behind one fixture, so the contract suite runs on each: the memory twin, and a
real Elasticsearch node of every supported major (7.17, 8.x, 9.x; ``tests.es_matrix``), and a
node with X-Pack security on (TLS, user and password)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from collector.store import ElasticsearchStore, MemoryStore, Store
from tests.es_matrix import MAJORS, SECURED_MAJOR, Nodes

ES_PARAMS = [
    pytest.param(major, marks=pytest.mark.integration, id=f"es{major}") for major in MAJORS
]
SECURED = pytest.param(0, marks=pytest.mark.integration, id=f"es{SECURED_MAJOR}-tls-password")
"""Major 0: the secured node (TLS with rtcsim's CA, user and password)."""


async def _connected(
    request: pytest.FixtureRequest, major: int
) -> AsyncIterator[ElasticsearchStore]:
    """A store on a fresh index of the suite's node of ``major``, removed afterwards."""
    nodes: Nodes = request.getfixturevalue("es_nodes")
    settings = nodes.secured() if major == 0 else nodes.get(major)
    major = major or SECURED_MAJOR
    index = f"rtcsimtest-{uuid.uuid4().hex[:12]}"
    store = ElasticsearchStore.from_options(settings.es_client_options(), index, retries=2)
    store.backoff_s = 0.01
    await store.check()
    assert store.version is not None
    assert store.version.major == major
    try:
        yield store
    finally:
        await store.client.indices.delete(index=index, ignore_unavailable=True)
        await store.client.options(ignore_status=404).indices.delete_index_template(
            name=f"{index}-template"
        )
        await store.close()


@pytest.fixture(params=["memory", *ES_PARAMS, SECURED])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore(index="rtcsimtest")
        return
    async for es in _connected(request, request.param):
        yield es


@pytest.fixture(params=ES_PARAMS)
async def es_store(request: pytest.FixtureRequest) -> AsyncIterator[ElasticsearchStore]:
    """The Elasticsearch store alone, on each supported major."""
    async for es in _connected(request, request.param):
        yield es
