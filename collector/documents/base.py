"""What every monitoring document shares: an ``elastic_type``, a JSON body and a deterministic id.

Field names are OpenVidu's (camelCase) on purpose: Kibana dashboards and queries written for
OpenVidu Pro must work unchanged (``shared/reference/openvidu-documents.md``). Absent optional
fields are left out of the body rather than written as ``null``, as OpenVidu does, except where
OpenVidu writes an explicit ``null`` (``signalSent.from``).
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Document(BaseModel):
    """One document of the ``openvidu`` index."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    elastic_type: str

    keep_null: ClassVar[frozenset[str]] = frozenset()
    """Body keys written even when ``None`` (OpenVidu sends an explicit JSON null there)."""

    def body(self) -> dict[str, Any]:
        """The JSON object written to Elasticsearch."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key in self.keep_null:
            data.setdefault(key, None)
        return data

    def identity(self) -> tuple[object, ...]:
        """What makes this document unique; the default is the whole body."""
        return (sorted(self.body().items()),)

    def doc_id(self) -> str:
        """A deterministic ``_id``: replays and retries overwrite instead of duplicating."""
        return self._id_of(self.identity())

    def item(self) -> tuple[str, dict[str, Any]]:
        """``(doc_id, body)`` as the store takes it, the body built once."""
        body = self.body()
        if type(self).identity is Document.identity:
            return self._id_of((sorted(body.items()),)), body
        return self._id_of(self.identity()), body

    def _id_of(self, identity: tuple[object, ...]) -> str:
        key = orjson.dumps([self.elastic_type, *identity], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(key).hexdigest()[:40]


class Container(BaseModel, Generic[T]):
    """OpenVidu's list wrapper: ``{"numberOfElements": n, "content": [...]}``."""

    model_config = ConfigDict(frozen=True)

    numberOfElements: int
    content: list[T]

    @classmethod
    def of(cls, items: list[T]) -> Container[T]:
        return cls(numberOfElements=len(items), content=items)


def unique_session_id(session_id: str, created_at_ms: int) -> str:
    """OpenVidu 2.17+: ``<sessionId>_<createdAt ms>``, tells apart sessions reusing an id."""
    return f"{session_id}_{created_at_ms}"
