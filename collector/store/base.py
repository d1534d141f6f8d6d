"""The store contract: where documents go. Elasticsearch in production, memory/NDJSON in tests.

Both implementations pass the same contract suite
(``tests/collector/store/test_store_contract.py``).
Writes are ``(doc_id, body)`` pairs so that a retried or replayed document overwrites itself.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

TEMPLATE_FILE = "openvidu-template-v1.json"

Filters = Mapping[str, str | int | float | bool]
"""Exact-match filters on top-level fields, e.g. ``{"elastic_type": "cdr", "event": "x"}``."""


@dataclass
class WriteResult:
    """What a bulk write did: how many were stored, and each failure with its reason."""

    written: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    """Documents not written because the store was unavailable; the caller should retry later."""


class StoreError(RuntimeError):
    """The store cannot be reached or refused a request."""


class Store(Protocol):
    """Where documents are written, and read back by tests and assertions."""

    async def install_template(self) -> None:
        """Install the index template (idempotent)."""
        ...

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        """Index every ``(doc_id, body)``; the same id twice keeps one document."""
        ...

    async def refresh(self) -> None:
        """Make everything written so far visible to search."""
        ...

    async def search(
        self, filters: Filters | None = None, size: int = 10_000
    ) -> list[dict[str, Any]]:
        """Bodies matching every filter, each with its id under ``_id``, sorted by id."""
        ...

    async def count(self, filters: Filters | None = None) -> int: ...

    async def close(self) -> None: ...


def load_template(index: str) -> dict[str, Any]:
    """The packaged composable template, aimed at ``index`` and ``index-*``."""
    text = importlib.resources.files("collector.templates").joinpath(TEMPLATE_FILE).read_text()
    template: dict[str, Any] = json.loads(text)
    template.pop("_comment", None)
    template["index_patterns"] = [index, f"{index}-*"]
    template["_meta"] = {"source": "rtcsim collector", "file": TEMPLATE_FILE}
    return template
