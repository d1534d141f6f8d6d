"""A run's documents as NDJSON, streamed, and proven whole or refused.

The lines come from one point-in-time read (``simulator.verify.store_reader``), in timestamp
order, one page in memory. Then the number written is held against two counts taken by other
roads: the point-in-time's exact hit count, and the ``_count`` API on the live index. All three
equal, or :class:`ExportIncomplete`: an export that silently stops at Elasticsearch's result
window (10,000) looks complete and is not, which is worse than no export.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson
from elasticsearch import AsyncElasticsearch

from simulator.verify.store_reader import Selection, open_run


class ExportIncomplete(RuntimeError):
    """The export does not hold every document of the run; the message gives the counts."""


async def export_run(
    es: AsyncElasticsearch, index: str, selection: Selection, out: IO[bytes]
) -> int:
    """Write every selected document to ``out``, one JSON a line; returns how many."""
    written = 0
    async with open_run(es, index, selection) as run:
        total = await run.total()
        async for doc in run.documents():
            out.write(orjson.dumps(doc) + b"\n")
            written += 1
        counted = await run.count_now()
    if not written == total == counted:
        raise ExportIncomplete(
            f"wrote {written} documents, but the run holds {total} (point-in-time) and "
            f"{counted} (_count now): the export is incomplete"
            + ("; documents arrived while it ran: export again" if counted > total else "")
        )
    return written


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A file that appears at ``path`` only when the block succeeds: a failed export leaves
    nothing a reader could take for a whole one."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as file:
            yield file
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
