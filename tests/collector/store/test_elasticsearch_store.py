"""Elasticsearch-only behaviour: the template as installed, and per-item errors surfacing."""

from __future__ import annotations

import uuid

import pytest
from elasticsearch import AsyncElasticsearch

from collector.store import ElasticsearchStore

pytestmark = pytest.mark.integration


async def test_template_installs_idempotently_with_epoch_millis_dates_and_geo_point() -> None:
    index = f"rtcsimtest-{uuid.uuid4().hex[:12]}"
    client = AsyncElasticsearch("http://127.0.0.1:9200")
    store = ElasticsearchStore(client, index)
    try:
        await store.install_template()
        await store.install_template()
        await store.write([("a", {"elastic_type": "cdr", "timestamp": 1_700_000_000_000})])
        mapping = (await client.indices.get_mapping(index=index))[index]["mappings"]
        props = mapping["properties"]
        assert props["timestamp"] == {"type": "date", "format": "epoch_millis"}
        assert props["geoPoints"] == {"type": "geo_point"}
        assert props["sessionId"]["type"] == "keyword"
        assert props["jitter"]["type"] == "double"
    finally:
        await client.indices.delete(index=index, ignore_unavailable=True)
        await client.options(ignore_status=404).indices.delete_index_template(
            name=f"{index}-template"
        )
        await client.close()


async def test_a_refused_document_is_reported_with_the_reason_not_dropped() -> None:
    index = f"rtcsimtest-{uuid.uuid4().hex[:12]}"
    client = AsyncElasticsearch("http://127.0.0.1:9200")
    store = ElasticsearchStore(client, index, retries=1, backoff_s=0.01)
    try:
        await store.install_template()
        result = await store.write(
            [("good", {"timestamp": 1}), ("bad", {"timestamp": "not a date"})]
        )
        assert result.written == 1
        assert [doc_id for doc_id, _ in result.errors] == ["bad"]
        assert "parse" in result.errors[0][1]
    finally:
        await client.indices.delete(index=index, ignore_unavailable=True)
        await client.options(ignore_status=404).indices.delete_index_template(
            name=f"{index}-template"
        )
        await client.close()


async def test_unreachable_elasticsearch_gives_up_after_bounded_retries() -> None:
    client = AsyncElasticsearch("http://127.0.0.1:9", request_timeout=1, max_retries=0)
    delays: list[float] = []

    async def no_wait(delay: float) -> None:
        delays.append(delay)

    store = ElasticsearchStore(client, "x", retries=3, backoff_s=0.1, sleep=no_wait)
    try:
        result = await store.write([("a", {"timestamp": 1})])
    finally:
        await client.close()
    assert result.written == 0
    assert result.errors[0][0] == "a"
    assert delays == [0.1, 0.2, 0.4]
