"""The Elasticsearch store: the official async client, the ``_bulk`` API, bounded retries.

The client comes from ``collector.store.client`` (the one factory); ``check`` asks the cluster
its version and from then on speaks that major's API and installs the template in its form.

A batch is retried (with exponential backoff) when Elasticsearch is unreachable or answers 429/5xx
for some items; items refused for good (a mapping conflict, say) are returned as errors with
Elasticsearch's reason, never dropped silently. Ids are the documents' deterministic ids, so a
retry after a lost response cannot duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import elastic_transport
import orjson
from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer

from collector.store.base import Filters, StoreError, WriteResult
from collector.store.client import ClientOptions, ServerVersion, connect, make_client
from collector.store.template import template_for

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})


class OrjsonNdjsonSerializer(NdjsonSerializer):
    """``_bulk`` bodies through orjson: the client's default NDJSON serializer uses the standard
    ``json`` module, which cost the collector about a tenth of its CPU under load (make bench)."""

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default)

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


def orjson_serializers() -> dict[str, elastic_transport.Serializer]:
    return {
        OrjsonSerializer.mimetype: OrjsonSerializer(),
        OrjsonNdjsonSerializer.mimetype: OrjsonNdjsonSerializer(),
    }


def _query(filters: Filters | None) -> dict[str, Any]:
    if not filters:
        return {"match_all": {}}
    return {"bool": {"filter": [{"term": {k: v}} for k, v in filters.items()]}}


class ElasticsearchStore:
    """Writes to one index (``openvidu`` by default) through ``_bulk``."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        index: str = "openvidu",
        *,
        version: ServerVersion | None = None,
        options: ClientOptions | None = None,
        retries: int = 5,
        backoff_s: float = 0.2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.index = index
        self.version = version
        """The cluster's version, once ``check`` asked it (or as the caller knew it)."""
        self._options = options
        self._retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep

    @classmethod
    def from_options(
        cls, options: ClientOptions, index: str, *, retries: int = 5
    ) -> ElasticsearchStore:
        """A store for the cluster of ``options``; ``check`` then learns its version."""
        options = replace(options, extra={"serializers": orjson_serializers(), **options.extra})
        return cls(make_client(options, 9), index, options=options, retries=retries)

    async def check(self) -> None:
        """Raise ``StoreError`` with a one-line reason when the cluster cannot be reached or
        runs a version rtcsim does not support; else speak its major from now on."""
        if self._options is not None:
            connection = await connect(self._options)
            await self.client.close()
            self.client, self.version = connection.client, connection.version
        try:
            await self.client.cluster.health(timeout="5s")
        except (elastic_transport.TransportError, elastic_transport.ApiError) as exc:
            raise StoreError(f"Elasticsearch unreachable: {exc}") from exc

    async def install_template(self) -> None:
        template = template_for(self.index, self.version)
        meta = template.pop("_meta")
        try:
            await self.client.indices.put_index_template(
                name=f"{self.index}-template", meta=meta, **template
            )
        except (elastic_transport.TransportError, elastic_transport.ApiError) as exc:
            raise StoreError(f"cannot install index template: {exc}") from exc

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        result = WriteResult()
        pending = list(docs)
        attempt = 0
        while pending:
            retry: list[tuple[str, Mapping[str, Any]]] = []
            last_reason = ""
            try:
                # Bytes go through the client's NDJSON serializer as they are (its ``dumps``
                # forwards an encoded body), although the signature names only mappings.
                body = cast(Any, self._operations(pending))
                # Only ``errors`` in the answer: its 500 item results cost Elasticsearch their
                # serialization and the collector their parsing (make bench 3). When one item
                # failed, the bulk is sent again with every item's result (same ids: the
                # documents indexed the first time are overwritten with themselves).
                response = await self.client.bulk(operations=body, filter_path="errors")
                if response.get("errors") is not False and "items" not in response:
                    response = await self.client.bulk(operations=body)
            except (elastic_transport.TransportError, elastic_transport.ApiError) as exc:
                retry = pending
                last_reason = f"bulk request failed: {exc}"
            else:
                if response.get("errors") is False:
                    # Every item was indexed (``errors`` is true as soon as one item failed).
                    result.written += len(pending)
                    break
                by_id = dict(pending)
                for item in response.get("items", []):
                    action = item.get("index", {})
                    doc_id = str(action.get("_id"))
                    status = int(action.get("status", 500))
                    if status < 300:
                        result.written += 1
                    elif status in RETRYABLE_STATUS and doc_id in by_id:
                        retry.append((doc_id, by_id[doc_id]))
                        last_reason = f"status {status}"
                    else:
                        error = action.get("error", {})
                        reason = f"{error.get('type', status)}: {error.get('reason', '')}"
                        result.errors.append((doc_id, reason))
            if not retry:
                break
            attempt += 1
            if attempt > self._retries:
                result.errors.extend((doc_id, f"gave up: {last_reason}") for doc_id, _ in retry)
                result.deferred.extend(retry)
                break
            delay = self.backoff_s * 2 ** (attempt - 1)
            log.warning("retrying %d documents in %.1fs (%s)", len(retry), delay, last_reason)
            await self._sleep(delay)
            pending = retry
        return result

    def _operations(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        """The NDJSON body, serialized here in one pass (the client passes bytes through)."""
        index = self.index
        dumps = orjson.dumps
        return b"".join(
            dumps({"index": {"_index": index, "_id": doc_id}}) + b"\n" + dumps(body) + b"\n"
            for doc_id, body in docs
        )

    async def refresh(self) -> None:
        await self.client.indices.refresh(index=self.index)

    async def search(
        self, filters: Filters | None = None, size: int = 10_000
    ) -> list[dict[str, Any]]:
        response = await self.client.search(index=self.index, query=_query(filters), size=size)
        hits = [{"_id": hit["_id"], **hit["_source"]} for hit in response["hits"]["hits"]]
        return sorted(hits, key=lambda hit: str(hit["_id"]))

    async def count(self, filters: Filters | None = None) -> int:
        response = await self.client.count(index=self.index, query=_query(filters))
        return int(response["count"])

    async def close(self) -> None:
        await self.client.close()
