"""What every collaborator of the session model shares: the clock, the documents produced and
not yet returned (the outbox), and the counters of what could not be attributed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from collector.clock import Clock
from collector.documents import Document


class Outbox:
    """Documents in the order they were produced, handed out once by ``drain``."""

    __slots__ = ("_docs",)

    def __init__(self) -> None:
        self._docs: list[Document] = []

    def append(self, doc: Document) -> None:
        self._docs.append(doc)

    def extend(self, docs: Iterable[Document]) -> None:
        self._docs.extend(docs)

    def drain(self) -> list[Document]:
        out, self._docs = self._docs, []
        return out


@dataclass
class ModelContext:
    clock: Clock
    out: Outbox = field(default_factory=Outbox)
    counters: Counter[str] = field(default_factory=Counter)
    """Events the model could not attribute or chose to skip, by why (shown in /stats)."""
