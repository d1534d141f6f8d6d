"""Both stores behind one fixture, so the contract suite runs on each."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from collector.store import ElasticsearchStore, MemoryStore, Store

ES_URL = "http://127.0.0.1:9200"


@pytest.fixture(params=["memory", pytest.param("elasticsearch", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore(index="rtcsimtest")
        return
    index = f"rtcsimtest-{uuid.uuid4().hex[:12]}"
    client = AsyncElasticsearch(ES_URL, request_timeout=30)
    es = ElasticsearchStore(client, index, retries=2, backoff_s=0.01)
    try:
        yield es
    finally:
        await client.indices.delete(index=index, ignore_unavailable=True)
        await client.options(ignore_status=404).indices.delete_index_template(
            name=f"{index}-template"
        )
        await client.close()
