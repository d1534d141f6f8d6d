"""The synthetic Janus events are ones the collector understands, and a room of them closes."""

from __future__ import annotations

from collections import Counter

from bench.collector_ingest import build_workload
from bench.janus_feed import Event, JanusFeed
from collector.events.janus import parse_event
from collector.session_model import SessionModel
from collector.sources.janus.source import JanusEventSource

T0_MS = 1_795_880_337_886.0


class FixedClock:
    def now_ms(self) -> int:
        return int(T0_MS)


def _room(feed: JanusFeed, room: str, subscribers: int) -> list[Event]:
    pub = f"{room}-pub"
    events = [*feed.create_room(room, T0_MS), *feed.join(pub, room, T0_MS + 10)]
    events += feed.publish(pub, T0_MS + 20)
    for i in range(subscribers):
        events += feed.join(f"{room}-sub{i}", room, T0_MS + 200 + i)
        events += feed.subscribe(f"{room}-sub{i}", pub, T0_MS + 300 + 60 * i)
    for conn in list(feed.participants):
        events += feed.media_stats(conn, T0_MS + 1000, 1)
    for i in range(subscribers):
        events += feed.leave(f"{room}-sub{i}", T0_MS + 2000)
    return events + feed.leave(pub, T0_MS + 2100)


def test_a_fed_room_ends_with_a_session_summary_and_no_unattributed_event() -> None:
    model = SessionModel(FixedClock())
    janus = JanusEventSource(model)
    docs = []
    for raw in _room(JanusFeed(), "r1", subscribers=3):
        docs += janus.apply(parse_event(raw))
    kinds = Counter(d.elastic_type for d in docs)
    assert kinds["sessionSummary"] == 1
    assert kinds["subscriberSummary"] == 3
    assert kinds["publisherSummary"] == 1
    assert not model.counters
    assert model.open_sessions() == []


def test_the_ingest_workload_is_pre_serialized_and_counts_what_it_holds() -> None:
    work = build_workload(rooms=2, subscribers=2, ticks=2, start_ms=T0_MS)
    assert work.samples == 2 * 2 * 3 * 2  # rooms x ticks x participants x media
    assert all(isinstance(body, bytes) for body in work.event_posts + work.stats_posts)
    assert work.events > 0
