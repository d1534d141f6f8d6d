"""The collector's pipelined writer against the stack's real Elasticsearch: with two bulks under
way at once, and the bulk holding the first versions of some documents answered last, every
document ends at its last version (a later version is never overwritten by an earlier one).

The first bulk is held back in the client (``LateFirstStore``) until two bulks sent after it have
been answered (or ``HOLD_S``): a writer that sent the second versions of its documents while it
was under way would have them overwritten by their first versions. A correct writer sends
nothing of them meanwhile, so the hold runs out: the test takes about ``HOLD_S`` + 1 s."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pytest

from collector.counters import ServiceCounters
from collector.store import ElasticsearchStore, WriteResult
from collector.writer import DocumentWriter
from simulator.settings import Settings

pytestmark = pytest.mark.integration

BATCH = 200
HOLD_S = 2.0


class LateFirstStore(ElasticsearchStore):
    """The real store, whose first bulk waits until two later ones landed (at most ``HOLD_S``);
    it records the most bulks under way at once."""

    writes = 0
    landed = 0
    under_way = 0
    most_under_way = 0
    two_landed: asyncio.Event | None = None

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        self.writes += 1
        self.under_way += 1
        self.most_under_way = max(self.most_under_way, self.under_way)
        two_landed = self.two_landed = self.two_landed or asyncio.Event()
        try:
            if self.writes == 1:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(two_landed.wait(), timeout=HOLD_S)
                return await super().write(docs)
            result = await super().write(docs)
            self.landed += 1
            if self.landed == 2:
                two_landed.set()
            return result
        finally:
            self.under_way -= 1


@pytest.fixture
async def store(running_stack: Settings) -> AsyncIterator[LateFirstStore]:
    index = f"rtcsimtest-order-{uuid.uuid4().hex[:12]}"
    options = running_stack.es_client_options()
    es = LateFirstStore.from_options(options, index, retries=2)
    assert isinstance(es, LateFirstStore)
    await es.check()
    await es.install_template()
    try:
        yield es
    finally:
        await es.client.indices.delete(index=index, ignore_unavailable=True)
        await es.client.options(ignore_status=404).indices.delete_index_template(
            name=f"{index}-template"
        )
        await es.close()


def version(doc: int, n: int) -> tuple[str, dict[str, Any]]:
    return f"doc-{doc:04d}", {"timestamp": 1_700_000_000_000 + n, "version": n, "doc": doc}


async def test_every_document_ends_at_its_last_version_with_bulks_pipelined(
    store: LateFirstStore,
) -> None:
    writer = DocumentWriter(store, ServiceCounters(), batch_size=BATCH, max_in_flight=2)
    writer.submit_items([version(d, 1) for d in range(BATCH)])  # the late first bulk
    writer.submit_items([version(d, 1) for d in range(BATCH, 2 * BATCH)])  # goes beside it
    # Second versions of every other document, of the first bulk's and of the second's.
    writer.submit_items([version(d, 2) for d in range(0, 2 * BATCH, 2)])
    await writer.flush()
    await store.refresh()

    assert store.most_under_way == 2  # the pipeline was used
    hits = await store.search(size=10 * BATCH)
    assert len(hits) == 2 * BATCH
    last = {h["_id"]: 2 if h["doc"] % 2 == 0 else 1 for h in hits}
    assert {h["_id"]: h["version"] for h in hits} == last
