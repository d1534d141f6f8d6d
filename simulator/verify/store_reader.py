"""Reading a run's documents back from Elasticsearch (the verification's only source)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

Document = dict[str, Any]


async def session_documents(
    es: AsyncElasticsearch, index: str, session_ids: list[str], *, elastic_type: str | None = None
) -> list[Document]:
    """Every document of these sessions (by ``sessionId`` or the older ``session`` key)."""
    filters: list[dict[str, Any]] = [
        {
            "bool": {
                "should": [
                    {"terms": {"sessionId": session_ids}},
                    {"terms": {"session": session_ids}},
                ],
                "minimum_should_match": 1,
            }
        }
    ]
    if elastic_type is not None:
        filters.append({"term": {"elastic_type": elastic_type}})
    try:
        await es.indices.refresh(index=index)
        response = await es.search(
            index=index,
            query={"bool": {"filter": filters}},
            size=10_000,
            sort=[{"timestamp": {"order": "asc", "unmapped_type": "long"}}],
        )
    except NotFoundError:
        return []
    return [hit["_source"] for hit in response["hits"]["hits"]]


async def host_documents(
    es: AsyncElasticsearch, index: str, start_ms: int, end_ms: int
) -> list[Document]:
    """``monitoringStats`` of the media server's host while the run lasted (no session key)."""
    try:
        response = await es.search(
            index=index,
            query={
                "bool": {
                    "filter": [
                        {"term": {"elastic_type": "monitoringStats"}},
                        {"range": {"timestamp": {"gte": start_ms, "lte": end_ms}}},
                    ]
                }
            },
            size=10_000,
            sort=[{"timestamp": {"order": "asc", "unmapped_type": "long"}}],
        )
    except NotFoundError:
        return []
    return [hit["_source"] for hit in response["hits"]["hits"]]


async def run_documents(
    es: AsyncElasticsearch, index: str, session_ids: list[str], start_ms: int, end_ms: int
) -> list[Document]:
    """Everything a run produced: its sessions' documents and the host's samples meanwhile."""
    return await session_documents(es, index, session_ids) + await host_documents(
        es, index, start_ms, end_ms
    )


async def wait_for_documents(
    es: AsyncElasticsearch,
    index: str,
    session_ids: list[str],
    complete: Callable[[list[Document]], bool],
    *,
    timeout_s: float,
    poll_s: float = 0.5,
    window_ms: tuple[int, int] | None = None,
) -> list[Document]:
    """Poll until ``complete`` says the documents are all there, or the time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if window_ms is None:
            documents = await session_documents(es, index, session_ids)
        else:
            documents = await run_documents(es, index, session_ids, *window_ms)
        if complete(documents) or loop.time() >= deadline:
            return documents
        await asyncio.sleep(poll_s)
