"""The store contract, run on the memory store and on the real Elasticsearch."""

from __future__ import annotations

from collector.documents import SessionCreated, SessionDestroyed
from collector.store import Store


def created(ts: int, session: str = "s1") -> SessionCreated:
    return SessionCreated(timestamp=ts, sessionId=session, uniqueSessionId=f"{session}_{ts}")


async def test_written_documents_can_be_found_by_field(store: Store) -> None:
    await store.install_template()
    docs = [created(1_700_000_000_000), created(1_700_000_000_500, "s2")]
    result = await store.write([(d.doc_id(), d.body()) for d in docs])
    assert result.written == 2
    assert result.errors == []
    await store.refresh()
    found = await store.search({"elastic_type": "cdr", "sessionId": "s2"})
    assert len(found) == 1
    assert found[0]["timestamp"] == 1_700_000_000_500
    assert found[0]["_id"] == docs[1].doc_id()
    assert await store.count({"event": "sessionCreated"}) == 2


async def test_writing_the_same_id_twice_keeps_one_document(store: Store) -> None:
    await store.install_template()
    doc = created(1_700_000_000_000)
    await store.write([(doc.doc_id(), doc.body())])
    await store.write([(doc.doc_id(), doc.body())])
    await store.refresh()
    assert await store.count() == 1


async def test_template_maps_dates_ids_and_geo_points(store: Store) -> None:
    await store.install_template()
    end = SessionDestroyed(
        timestamp=1_700_000_082_000,
        sessionId="s1",
        uniqueSessionId="s1_1700000000000",
        startTime=1_700_000_000_000,
        duration=82,
        reason="lastParticipantLeft",
    )
    geo = {"elastic_type": "connectionSummary", "geoPoints": "19.09,72.87", "timestamp": 1}
    result = await store.write([(end.doc_id(), end.body()), ("geo-1", geo)])
    assert result.errors == []
    await store.refresh()
    assert await store.count({"reason": "lastParticipantLeft"}) == 1
