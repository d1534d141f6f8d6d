"""Elasticsearch-only behaviour, on a real node of each supported major: the template as
installed, per-item errors surfacing, bounded retries."""

from __future__ import annotations

import pytest

from collector.store import ElasticsearchStore
from collector.store.client import ClientOptions, make_client


@pytest.mark.integration
async def test_template_installs_idempotently_with_epoch_millis_dates_and_geo_point(
    es_store: ElasticsearchStore,
) -> None:
    client, index = es_store.client, es_store.index
    await es_store.install_template()
    await es_store.install_template()
    await es_store.write([("a", {"elastic_type": "cdr", "timestamp": 1_700_000_000_000})])
    mapping = (await client.indices.get_mapping(index=index))[index]["mappings"]
    props = mapping["properties"]
    assert props["timestamp"] == {"type": "date", "format": "epoch_millis"}
    assert props["geoPoints"] == {"type": "geo_point"}
    assert props["sessionId"]["type"] == "keyword"
    assert props["jitter"]["type"] == "double"


@pytest.mark.integration
async def test_the_installed_template_names_the_index_the_server_and_auto_expands_replicas(
    es_store: ElasticsearchStore,
) -> None:
    await es_store.install_template()
    name = f"{es_store.index}-template"
    [entry] = (await es_store.client.indices.get_index_template(name=name))["index_templates"]
    template = entry["index_template"]
    assert template["index_patterns"] == [es_store.index, f"{es_store.index}-*"]
    assert es_store.version is not None
    assert template["_meta"]["elasticsearch"] == str(es_store.version)
    assert template["version"] == 2
    await es_store.write([("a", {"timestamp": 1})])
    settings = await es_store.client.indices.get_settings(index=es_store.index)
    index_settings = settings[es_store.index]["settings"]["index"]
    assert index_settings["auto_expand_replicas"] == "0-1"
    assert index_settings["number_of_replicas"] == "0"  # one node: no replica, so green


@pytest.mark.integration
async def test_a_refused_document_is_reported_with_the_reason_not_dropped(
    es_store: ElasticsearchStore,
) -> None:
    await es_store.install_template()
    result = await es_store.write(
        [("good", {"timestamp": 1}), ("bad", {"timestamp": "not a date"})]
    )
    assert result.written == 1
    assert [doc_id for doc_id, _ in result.errors] == ["bad"]
    assert "parse" in result.errors[0][1]


async def test_unreachable_elasticsearch_gives_up_after_bounded_retries() -> None:
    client = make_client(
        ClientOptions(("http://127.0.0.1:9",), request_timeout_s=1, max_retries=0), 9
    )
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


@pytest.mark.integration
async def test_a_point_in_time_is_read_whole_with_search_after(
    es_store: ElasticsearchStore,
) -> None:
    """What the readers (simulator/verify/store_reader.py) do, through the factory's client:
    ``_pit`` and ``search_after`` answer alike on 7.17, 8.x and 9.x."""
    await es_store.install_template()
    docs = [(f"d{i:02}", {"timestamp": 1_700_000_000_000 + i}) for i in range(25)]
    await es_store.write(docs)
    await es_store.refresh()
    es = es_store.client
    pit = (await es.open_point_in_time(index=es_store.index, keep_alive="1m"))["id"]
    seen: list[str] = []
    after: list[object] | None = None
    try:
        while True:
            page = await es.search(
                pit={"id": pit, "keep_alive": "1m"},
                size=10,
                sort=[{"timestamp": "asc"}],
                search_after=after,
            )
            hits = page["hits"]["hits"]
            if not hits:
                break
            pit = page["pit_id"]
            seen += [hit["_id"] for hit in hits]
            after = hits[-1]["sort"]
    finally:
        await es.close_point_in_time(id=pit)
    assert seen == [doc_id for doc_id, _ in docs]
