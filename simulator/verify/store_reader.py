"""Reading a run's documents back from Elasticsearch, whole, however many there are.

Every reader of a run (its verification, ``rtcsim check``, ``rtcsim export``, ``rtcsim scenario
from-session``) goes through :func:`open_run`: a point-in-time of the index (a frozen view, so
the pages of one read and the aggregations beside them see the same documents) paged with
``search_after`` on ``(timestamp, _shard_doc)``, and handed out as an async iterator so memory
holds one page, never the run. A plain ``search`` stops at ``index.max_result_window`` (10,000
by default) and says nothing: a run of 27,037 documents was once verified against 10,015.
Elasticsearch: "Paginate search results" (point in time + search_after) and "Point in time API".

A read can prove itself whole: :meth:`StoredRun.total` is the point-in-time's exact hit count
(``track_total_hits``), :meth:`StoredRun.count_now` the ``_count`` API's answer on the live
index, a second road; a reader that saw fewer documents than either raises
:class:`ReadBackIncomplete` instead of returning less.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from simulator.ledger import Ledger

Document = dict[str, Any]

PAGE_SIZE = 2_000
"""Hits per page: small enough to keep memory flat, large enough that a 50,000-document run
takes 25 round trips."""
KEEP_ALIVE = "2m"
"""How long the point-in-time lives between two pages (renewed by every page)."""
SORT: list[dict[str, Any]] = [
    {"timestamp": {"order": "asc", "unmapped_type": "long"}},
    {"_shard_doc": "asc"},  # the point-in-time's own tie-breaker: every hit once, in order
]


class ReadBackIncomplete(RuntimeError):
    """A run's documents could not be read whole; the message says how many of how many."""


@dataclass(frozen=True)
class Selection:
    """Which documents are a run's: its sessions' (``sessionId``, or the older ``session``
    key) and, given the run's time window, the media server host's ``monitoringStats`` of that
    time (they carry no session key). ``types`` narrows it to some ``elastic_type`` values."""

    session_ids: tuple[str, ...]
    window_ms: tuple[int, int] | None = None
    types: tuple[str, ...] | None = None

    def query(self) -> dict[str, Any]:
        ids = list(self.session_ids)
        either: list[dict[str, Any]] = [
            {"terms": {"sessionId": ids}},
            {"terms": {"session": ids}},
        ]
        if self.window_ms is not None:
            start_ms, end_ms = self.window_ms
            either.append(
                {
                    "bool": {
                        "filter": [
                            {"term": {"elastic_type": "monitoringStats"}},
                            {"range": {"timestamp": {"gte": start_ms, "lte": end_ms}}},
                        ]
                    }
                }
            )
        filters: list[dict[str, Any]] = [{"bool": {"should": either, "minimum_should_match": 1}}]
        if self.types is not None:
            filters.append({"terms": {"elastic_type": list(self.types)}})
        return {"bool": {"filter": filters}}


class StoredRun:
    """One point-in-time over a run's documents (made by :func:`open_run`)."""

    def __init__(
        self, es: AsyncElasticsearch, index: str, selection: Selection, pit_id: str | None
    ) -> None:
        self.es = es
        self.index = index
        self.selection = selection
        self._pit_id = pit_id
        self.read = 0
        """Documents handed out so far by :meth:`documents`."""

    @property
    def exists(self) -> bool:
        """False when the index does not exist (yet): the run has no documents."""
        return self._pit_id is not None

    def _pit(self) -> dict[str, str]:
        assert self._pit_id is not None
        return {"id": self._pit_id, "keep_alive": KEEP_ALIVE}

    async def aggregate(self, aggs: dict[str, Any]) -> dict[str, Any]:
        """Aggregations over the run's documents, in the same frozen view as the read."""
        if not self.exists:
            return {}
        response = await self.es.search(
            pit=self._pit(), query=self.selection.query(), size=0, aggs=aggs, track_total_hits=True
        )
        self._pit_id = response.body.get("pit_id", self._pit_id)
        body: dict[str, Any] = dict(response.body.get("aggregations", {}))
        body["_total"] = int(response.body["hits"]["total"]["value"])
        return body

    async def total(self) -> int:
        """The exact number of the run's documents in this view."""
        return int((await self.aggregate({})).get("_total", 0))

    async def count_now(self) -> int:
        """The ``_count`` API's number for the same selection on the live index: the second
        road to the run's size (documents written after the view was taken count here only)."""
        try:
            response = await self.es.count(index=self.index, query=self.selection.query())
        except NotFoundError:
            return 0
        return int(response["count"])

    async def documents(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[Document]:
        """Every document, in timestamp order, one page in memory at a time."""
        async for hit in self.hits(page_size=page_size):
            yield hit["_source"]

    async def hits(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[dict[str, Any]]:
        """Every hit (``_id``, ``_source``, ``sort``), as :meth:`documents`."""
        if not self.exists:
            return
        after: list[Any] | None = None
        while True:
            response = await self.es.search(
                pit=self._pit(),
                query=self.selection.query(),
                sort=SORT,
                size=page_size,
                search_after=after,
                track_total_hits=False,
            )
            self._pit_id = response.body.get("pit_id", self._pit_id)
            hits: list[dict[str, Any]] = response.body["hits"]["hits"]
            for hit in hits:
                self.read += 1
                yield hit
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]

    async def close(self) -> None:
        if self._pit_id is not None:
            with contextlib.suppress(NotFoundError):
                await self.es.close_point_in_time(id=self._pit_id)
            self._pit_id = None


@contextlib.asynccontextmanager
async def open_run(
    es: AsyncElasticsearch, index: str, selection: Selection
) -> AsyncIterator[StoredRun]:
    """A frozen, refreshed view of the run's documents for the length of the block."""
    try:
        await es.indices.refresh(index=index)
        opened = await es.open_point_in_time(index=index, keep_alive=KEEP_ALIVE)
        pit_id: str | None = opened["id"]
    except NotFoundError:
        pit_id = None
    run = StoredRun(es, index, selection, pit_id)
    try:
        yield run
    finally:
        await run.close()


async def read_all(es: AsyncElasticsearch, index: str, selection: Selection) -> list[Document]:
    """Every selected document as a list, checked whole against the view's own count.

    For readers that need the documents together and know them to be few (one session's, a
    small run's); the pipeline itself streams (:meth:`StoredRun.documents`)."""
    async with open_run(es, index, selection) as run:
        documents = [doc async for doc in run.documents()]
        total = await run.total()
    if len(documents) != total:
        raise ReadBackIncomplete(
            f"read {len(documents)} of {total} documents from {index}: the read stopped early"
        )
    return documents


async def session_documents(
    es: AsyncElasticsearch,
    index: str,
    session_ids: Sequence[str],
    *,
    elastic_type: str | None = None,
) -> list[Document]:
    """Every document of these sessions (by ``sessionId`` or the older ``session`` key)."""
    types = None if elastic_type is None else (elastic_type,)
    return await read_all(es, index, Selection(tuple(session_ids), types=types))


async def run_documents(
    es: AsyncElasticsearch, index: str, session_ids: Sequence[str], start_ms: int, end_ms: int
) -> list[Document]:
    """Everything a run produced: its sessions' documents and the host's samples meanwhile."""
    return await read_all(es, index, Selection(tuple(session_ids), (start_ms, end_ms)))


async def wait_for_documents(
    es: AsyncElasticsearch,
    index: str,
    session_ids: Sequence[str],
    complete: Callable[[list[Document]], bool],
    *,
    timeout_s: float,
    poll_s: float = 0.5,
) -> list[Document]:
    """The sessions' documents, read whole again and again until ``complete`` says they are
    all there or the time is up (then whatever is there: the caller's checks say what is
    missing). For small runs and tests; a run's verification waits on aggregations
    (``rtcsim.pipeline.conclude.wait_for_counts``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        with contextlib.suppress(NotFoundError):
            await es.indices.refresh(index=index)
        documents = await session_documents(es, index, session_ids)
        if complete(documents) or loop.time() >= deadline:
            return documents
        await asyncio.sleep(poll_s)


def run_selection(ledger: Ledger) -> Selection:
    """A run's documents: its sessions' and the media server host's samples while it lasted."""
    return Selection(
        tuple(s.session_id for s in ledger.sessions.values()),
        (ledger.started_ms, ledger.ended_ms or ledger.started_ms),
    )
