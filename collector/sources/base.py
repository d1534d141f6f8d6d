"""The event-source protocol: one media server's events in, the session model's inputs out.

A source parses what its server posts (``parse``, raising ``EventError`` with the field and
why), and applies each event to the ``SessionModel`` it was built on (``apply``), returning the
documents that caused. It keeps whatever ids its server uses (Janus handles, LiveKit SIDs) and
forgets them when the server is lost (``SessionModel.on_media_server_lost``). Sources are
Janus's event handler (``collector.sources.janus``) and LiveKit's webhooks
(``collector.sources.livekit``); the app gives each its route (``collector.app.routes``).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from collector.documents import Document
from collector.journal_index import Owner
from collector.model.state import Session

E = TypeVar("E")


class EventSource(Protocol[E]):
    name: str
    """The server, as counters and logs name it: ``janus``, ``livekit``."""
    journal_kind: str
    """The journal's kind for this source's inputs (``collector.journal``)."""

    def parse(self, raw: object) -> E:
        """One event from its decoded JSON; ``EventError`` naming the field when invalid."""
        ...

    def label(self, raw: object) -> str:
        """What an item that did not parse is counted as (its class, if it names one)."""
        ...

    def kind(self, event: E) -> str:
        """The event's class, for the accepted/dropped counters."""
        ...

    def ignored(self, event: E) -> bool:
        """An event understood but of no use to the model: counted as dropped."""
        ...

    def apply(self, event: E) -> list[Document]:
        """Feed the event to the model; the documents it produced."""
        ...

    def session_of(self, event: E) -> Session | None:
        """The open session the event is about, as the model stands (before ``apply``: a
        leave's session; after it: a join's)."""
        ...

    def owner(self, event: E, before: Session | None, produced: bool) -> Owner:
        """What the applied event's journal line belongs to (``collector.journal_index``):
        ``before`` is ``session_of`` before it was applied, ``produced`` whether it made
        documents."""
        ...
