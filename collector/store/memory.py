"""An in-memory store, optionally mirrored to an NDJSON file, for unit tests and ES-less runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from collector.store.base import Filters, WriteResult, load_template


class MemoryStore:
    """Keeps documents by id; ``ndjson_path`` appends one ``{"_id",...body}`` line per write."""

    def __init__(self, index: str = "openvidu", ndjson_path: Path | None = None) -> None:
        self.index = index
        self.docs: dict[str, dict[str, Any]] = {}
        self.template: dict[str, Any] | None = None
        self._ndjson_path = ndjson_path
        self.fail_next: int = 0
        """Tests: make the next N writes fail (the store then reports them as errors)."""

    async def install_template(self) -> None:
        self.template = load_template(self.index)

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        result = WriteResult()
        lines: list[bytes] = []
        for doc_id, body in docs:
            if self.fail_next > 0:
                self.fail_next -= 1
                result.errors.append((doc_id, "injected failure"))
                continue
            stored = dict(body)
            self.docs[doc_id] = stored
            result.written += 1
            if self._ndjson_path is not None:
                lines.append(orjson.dumps({"_id": doc_id, **stored}))
        if lines and self._ndjson_path is not None:
            with self._ndjson_path.open("ab") as fh:
                fh.write(b"\n".join(lines) + b"\n")
        return result

    async def refresh(self) -> None:
        return None

    async def search(
        self, filters: Filters | None = None, size: int = 10_000
    ) -> list[dict[str, Any]]:
        wanted = dict(filters or {})
        found = [
            {"_id": doc_id, **body}
            for doc_id, body in sorted(self.docs.items())
            if all(body.get(k) == v for k, v in wanted.items())
        ]
        return found[:size]

    async def count(self, filters: Filters | None = None) -> int:
        return len(await self.search(filters))

    async def close(self) -> None:
        return None
