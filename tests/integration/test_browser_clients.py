"""A real browser next to rtcsim's own peers: every document of the browser's connections held
against what the browser itself measured and did.

Headless Chromium (Debian's) runs Meetecho's janus.js and webrtc-adapter as Debian ships them,
inside the client namespace, with a fake camera and microphone (``tests/integration/browser``).
In one room with an aiortc publisher and an aiortc subscriber it plays four janus.js roles:

- ``simulcast``: publishes with simulcast (three layers), unpublishes, then leaves;
- ``plain``: publishes one layer, leaves and ends its Janus session;
- ``viewer``: joins the room as a participant, subscribes to the aiortc publisher and to the
  simulcast one, unsubscribes from the first, and is the last to leave: it sends ``leave`` and
  keeps its Janus session, and the room is destroyed a second later (inside the collector's
  leave grace);
- ``watcher``: never joins, only attaches subscriber handles (the usual janus.js viewer), to the
  aiortc publisher and the plain one, then ends its Janus session.

The browser reports its own getStats (per SSRC and rid) and the times of what it did; the
documents must agree: packet counts within a few per cent, end reasons, durations within 1 s,
identities from what Janus knew, candidates as Janus selected them, simulcast layers each in a
document of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from collector.store.client import open_client
from simulator.collector_client import CollectorClient
from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusHandle, JanusSession
from simulator.driver.janus.server import JanusLink
from simulator.driver.protocol import RoomOptions
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.peers.publishing import PublishOptions
from simulator.settings import Settings
from simulator.verify.store_reader import wait_for_documents
from tests.integration.browser.harness import BrowserHarness, missing_parts

pytestmark = pytest.mark.integration
Doc = dict[str, Any]

LEAD_S = 8.0  # Chromium's start in the namespace, before the page's first step
ROLES: list[dict[str, Any]] = [
    {
        "name": "simulcast",
        "kind": "publisher",
        "display": "browser-simulcast",
        "simulcast": True,
        "unpublish_at": 24,
        "leave_at": 26,
        "destroy_session": True,
    },
    {
        "name": "plain",
        "kind": "publisher",
        "display": "browser-plain",
        "leave_at": 28,
        "destroy_session": True,
    },
    {
        "name": "viewer",
        "kind": "joined_viewer",
        "display": "browser-viewer",
        "start_at": 3,
        "subscribe_to": ["aio-pub", "browser-simulcast"],
        "unsubscribe_at": {"aio-pub": 18},
        "leave_at": 31,
        "destroy_session": False,
    },
    {
        "name": "watcher",
        "kind": "subscriber_only",
        "start_at": 3,
        "subscribe_to": ["aio-pub", "browser-plain"],
        "leave_at": 21,
        "destroy_session": True,
    },
]
AIORTC_LEAVE_AT_S = 29.5
ROOM_DESTROY_AFTER_LAST_LEAVE_S = 1.0  # inside the collector's 1.5 s leave grace
DURATION_TOLERANCE_S = 1.0
PACKET_TOLERANCE = 0.03  # of the browser's count ...
SAMPLE_PERIOD_MS = 500  # ... or what flows in two of the page's sampling periods, if more
LAYER_OF_RID = {"l": 0, "m": 1, "h": 2}  # janus.js sends h, m, l: Janus's substream 0 is l


async def _settle(coro_at: float) -> None:
    await asyncio.sleep(max(0.0, coro_at - time.time()))


class BrowserRun:
    """What the browser reported and the documents of the room, once everything ended."""

    def __init__(self, report: dict[str, Any], documents: list[Doc], room: str) -> None:
        self.report = report
        self.documents = documents
        self.room = room
        self.roles: dict[str, dict[str, Any]] = report["roles"]

    def docs(self, **match: Any) -> list[Doc]:
        return [d for d in self.documents if all(d.get(k) == v for k, v in match.items())]

    def one(self, **match: Any) -> Doc:
        found = self.docs(**match)
        assert len(found) == 1, (match, len(found))
        return found[0]

    def connection_id(self, role: str) -> str:
        record = self.roles[role]
        if record.get("feed") is not None:
            return str(record["feed"])
        return f"con_{record['janusSessionId']}"

    def last_stats(self, endpoint: str, media: str, layer: int | None = None) -> Doc:
        stats = [
            d
            for d in self.docs(elastic_type="webrtcStats", rtcsim_side="server", endpoint=endpoint)
            if d["mediaType"] == media and d.get("layer") == layer
        ]
        assert stats, (endpoint, media, layer)
        return max(stats, key=lambda d: d["timestamp"])


@pytest.fixture(scope="module")
def browser_run(running_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> BrowserRun:
    missing = missing_parts()
    assert not missing, f"make setup installs them: {missing}"
    return asyncio.run(_play(running_stack, tmp_path_factory.mktemp("browser")))


async def _play(settings: Settings, workdir: Path) -> BrowserRun:
    run_id = f"browser-{uuid.uuid4().hex[:8]}"
    room = f"browsers-{run_id}"
    media = NamespaceLoop(settings.client_netns)
    try:
        async with aiohttp.ClientSession() as http:
            collector = CollectorClient(http, settings.collector_api_url, settings.collector_token)
            await collector.post("/sessions", {"sessionId": room, "runId": run_id})
            async with _peers(media, settings, room) as (admin, publisher, subscriber):
                t0 = time.time() + LEAD_S
                harness = BrowserHarness(
                    media=media,
                    netns=settings.client_netns,
                    config={"janus": settings.janus_url, "room": room, "t0_ms": t0 * 1000},
                    log_path=workdir / "chromium.log",
                )
                harness.config["roles"] = ROLES
                await harness.start()
                try:
                    feed = await media.run(
                        _wait_for_feed(admin, room, "browser-plain", 30 + LEAD_S)
                    )
                    await media.run(subscriber.subscribe(feed, "", "cheap"))
                    await _settle(t0 + AIORTC_LEAVE_AT_S)
                    await media.run(subscriber.leave())
                    await media.run(publisher.leave())
                    report = await harness.report(timeout_s=60 + LEAD_S)
                    assert not report["errors"], report["errors"]
                    last_leave = max(r["left"] for r in report["roles"].values()) / 1000
                    await _settle(last_leave + ROOM_DESTROY_AFTER_LAST_LEAVE_S)
                    await media.run(videoroom.destroy_room(admin, room))
                finally:
                    await harness.stop()
        async with open_client(settings.es_client_options()) as es:
            documents = await wait_for_documents(
                es, settings.es_index, [room], _summaries_complete, timeout_s=20
            )
    finally:
        media.close()
    return BrowserRun(report, documents, room)


def _summaries_complete(docs: list[Doc]) -> bool:
    """The sessionSummary and every summary nested in it are searchable (the collector writes
    the sessionSummary at once, the rest with its next bulk)."""
    summaries = [d for d in docs if d["elastic_type"] == "sessionSummary"]
    if not summaries:
        return False
    connections = [c for u in summaries[0]["users"]["content"] for c in u["connections"]["content"]]
    return len([d for d in docs if d["elastic_type"] == "connectionSummary"]) == len(connections)


async def _wait_for_feed(admin: JanusHandle, room: str, display: str, timeout_s: float) -> str:
    async with asyncio.timeout(timeout_s):
        while True:
            for p in await videoroom.list_participants(admin, room):
                if p.get("display") == display and p.get("publisher"):
                    return str(p["id"])
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _peers(
    media: NamespaceLoop, settings: Settings, room: str
) -> AsyncIterator[tuple[JanusHandle, Participant, Participant]]:
    """The room, an aiortc publisher (cheap media) and an aiortc subscriber, on the media loop."""
    url = settings.janus_url

    async def open_() -> tuple[
        aiohttp.ClientSession, JanusSession, JanusHandle, Participant, Participant
    ]:
        http = aiohttp.ClientSession()
        admin_session = await JanusSession.create(http, url)
        admin = await admin_session.attach(videoroom.PLUGIN, "rtcsim:admin")
        await videoroom.create_room(admin, room, RoomOptions(bitrate_bps=2_000_000))
        pub_id, sub_id = f"aiopub{uuid.uuid4().hex[:10]}", f"aiosub{uuid.uuid4().hex[:10]}"
        pub = Participant(JanusLink(http, url, pub_id, "aio-pub"), pub_id, "aio-pub")
        sub = Participant(JanusLink(http, url, sub_id, "aio-sub"), sub_id, "aio-sub")
        await pub.join(room)
        await pub.publish(f"{pub.connection_id}_CAMERA_AIOPB", PublishOptions(media="cheap"))
        await sub.join(room)
        return http, admin_session, admin, pub, sub

    async def close(
        http: aiohttp.ClientSession, admin_session: JanusSession, *peers: Participant
    ) -> None:
        for peer in peers:
            await peer.close_quietly(destroy_session=True)
        await admin_session.destroy()
        await http.close()

    http, admin_session, admin, pub, sub = await media.run(open_())
    try:
        yield admin, pub, sub
    finally:
        await media.run(close(http, admin_session, sub, pub))


# -- the tests ---------------------------------------------------------------------------------
def _near(record: dict[str, Any], at_ms: int) -> dict[str, Any]:
    """The browser's own stats sample closest to a moment (Janus's sample time)."""
    samples = list(record.get("samples", []))
    if record.get("stats"):
        samples.append(record["stats"])
    assert samples, record
    return min(samples, key=lambda s: abs(s["at"] - at_ms))


def _slack(count: int, started_ms: int, at_ms: int) -> float:
    """A few per cent, or what flows in the browser's sampling period, if more."""
    rate_per_ms = count / max(1, at_ms - started_ms)
    return max(PACKET_TOLERANCE * count, rate_per_ms * SAMPLE_PERIOD_MS)


def _feed_stream(run: BrowserRun, feed: str) -> str:
    return str(run.one(elastic_type="publisherSummary", connectionId=feed)["streamId"])


def _close(found: float, expected: float, what: str) -> None:
    assert abs(found - expected) <= DURATION_TOLERANCE_S * 1000, (what, found, expected)


def test_the_browser_played_every_role_without_an_error(browser_run: BrowserRun) -> None:
    assert set(browser_run.roles) == {r["name"] for r in ROLES}
    assert all(r.get("left") for r in browser_run.roles.values())


def test_every_browser_is_a_participant_with_its_own_connection(browser_run: BrowserRun) -> None:
    for role in browser_run.roles:
        cid = browser_run.connection_id(role)
        browser_run.one(elastic_type="cdr", event="participantJoined", connectionId=cid)
        browser_run.one(elastic_type="cdr", event="participantLeft", connectionId=cid)
        browser_run.one(elastic_type="connectionSummary", connectionId=cid)
    summary = browser_run.one(elastic_type="sessionSummary")
    assert summary["users"]["numberOfElements"] == 4 + 2  # the browsers and the aiortc peers


def test_every_end_has_the_reason_of_what_the_browser_did(browser_run: BrowserRun) -> None:
    run = browser_run
    for role in run.roles:
        left = run.one(
            elastic_type="cdr", event="participantLeft", connectionId=run.connection_id(role)
        )
        assert left["reason"] == "disconnect", role
    simulcast, plain = (run.connection_id(r) for r in ("simulcast", "plain"))
    assert run.one(elastic_type="publisherSummary", connectionId=simulcast)["reason"] == "unpublish"
    assert run.one(elastic_type="publisherSummary", connectionId=plain)["reason"] == "disconnect"
    expected = {
        ("viewer", "aio-pub"): "unsubscribe",
        ("viewer", "browser-simulcast"): "unpublish",  # its publisher's reason, as OpenVidu's
        ("watcher", "aio-pub"): "disconnect",
        ("watcher", "browser-plain"): "disconnect",
    }
    for (role, display), reason in expected.items():
        sub = run.roles[role]["subscriptions"][display]
        summary = run.one(
            elastic_type="subscriberSummary",
            connectionId=run.connection_id(role),
            streamId=_feed_stream(run, sub["feed"]),
        )
        assert summary["reason"] == reason, (role, display)


def test_the_last_leave_then_the_rooms_destroy_is_a_last_participant_left(
    browser_run: BrowserRun,
) -> None:
    """The viewer leaves last, keeping its Janus session; the room goes a second later."""
    run = browser_run
    destroyed = run.one(elastic_type="cdr", event="sessionDestroyed")
    assert destroyed["reason"] == "lastParticipantLeft"
    _close(destroyed["timestamp"], run.roles["viewer"]["left"], "session end")
    assert run.one(elastic_type="sessionSummary")["reason"] == "lastParticipantLeft"


def test_durations_agree_with_the_browsers_timeline_within_a_second(
    browser_run: BrowserRun,
) -> None:
    run = browser_run
    for role, record in run.roles.items():
        summary = run.one(elastic_type="connectionSummary", connectionId=run.connection_id(role))
        _close(summary["createdAt"], record["joined"], f"{role} joined")
        _close(summary["destroyedAt"], record["left"], f"{role} left")
        assert summary["duration"] == (summary["destroyedAt"] - summary["createdAt"]) // 1000
    for role in ("simulcast", "plain"):
        record = run.roles[role]
        pub = run.one(elastic_type="publisherSummary", connectionId=run.connection_id(role))
        _close(pub["startTime"], record["webrtcup"], f"{role} published")
        _close(pub["timestamp"], record.get("unpublished") or record["left"], f"{role} ended")
    ended_by_publisher = {"browser-simulcast": run.roles["simulcast"]["unpublished"]}
    for role in ("viewer", "watcher"):
        for display, sub in run.roles[role]["subscriptions"].items():
            doc = run.one(
                elastic_type="subscriberSummary",
                connectionId=run.connection_id(role),
                streamId=_feed_stream(run, sub["feed"]),
            )
            _close(doc["startTime"], sub["webrtcup"], f"{role} <- {display} up")
            _close(
                doc["timestamp"],
                ended_by_publisher.get(display, sub["ended"]),
                f"{role} <- {display}",
            )


def test_server_packet_counts_agree_with_the_browsers_own_getstats(
    browser_run: BrowserRun,
) -> None:
    """Each of Janus's counts against the browser's own at the moment Janus sampled it."""
    run = browser_run
    for role in ("simulcast", "plain"):
        record = run.roles[role]
        stream = _feed_stream(run, run.connection_id(role))
        for media, layer in [("audio", None), *_video_layers(record)]:
            doc = run.last_stats(stream, media, layer)
            sample = _near(record, doc["timestamp"])
            rid = None if layer is None else _rid_of(layer)
            [sent] = [o for o in sample["outbound"] if o["kind"] == media and o["rid"] == rid]
            seen = doc["packetsReceived"] + doc["packetsLost"]
            slack = _slack(sent["packetsSent"], record["webrtcup"], sample["at"])
            if layer is None:
                assert abs(seen - sent["packetsSent"]) <= slack, (role, media, seen, sent)
            else:
                # Chrome pads a simulcast layer (bandwidth probes, sent as retransmissions
                # nobody asked for) and counts the padding as sent; Janus drops those before
                # counting (ice.c: "retransmission for non-NACKed packet"). So Janus's count
                # is at most what Chrome sent and at least one packet per frame sent.
                assert seen <= sent["packetsSent"] + slack, (role, layer, seen, sent)
                assert seen >= (sent["framesSent"] or 0) - slack / 2, (role, layer, seen, sent)
    for role in ("viewer", "watcher"):
        for display, sub in run.roles[role]["subscriptions"].items():
            endpoint = f"{run.connection_id(role)}_{_feed_stream(run, sub['feed'])}"
            for media in ("audio", "video"):
                doc = run.last_stats(endpoint, media)
                sample = _near(sub, doc["timestamp"])
                [got] = [i for i in sample["inbound"] if i["kind"] == media]
                arrived = got["packetsReceived"] + got["packetsLost"]
                slack = _slack(arrived, sub["webrtcup"], sample["at"])
                assert abs(doc["packetsSent"] - arrived) <= slack, (role, display, media, doc, got)


def _video_layers(record: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The video layers the browser sent anything on (Chrome may pause one under CPU load)."""
    rids = {o["rid"] for o in record["stats"]["outbound"] if o["kind"] == "video"}
    if rids == {None}:
        return [("video", None)]
    sent = {o["rid"] for o in record["stats"]["outbound"] if o["rid"] and o["packetsSent"] > 0}
    return [("video", LAYER_OF_RID[rid]) for rid in sorted(sent, key=LAYER_OF_RID.__getitem__)]


def _rid_of(layer: int) -> str:
    return next(rid for rid, n in LAYER_OF_RID.items() if n == layer)


def test_simulcast_layers_are_documents_of_their_own_beside_the_audio(
    browser_run: BrowserRun,
) -> None:
    run = browser_run
    stream = _feed_stream(run, run.connection_id("simulcast"))
    stats = run.docs(elastic_type="webrtcStats", endpoint=stream, rtcsim_side="server")
    sent = {layer for _media, layer in _video_layers(run.roles["simulcast"])}
    assert len(sent) >= 2, sent  # three from 960x540 on, unless Chrome paused one (CPU)
    assert {d.get("layer") for d in stats if d["mediaType"] == "video"} == sent
    assert [d for d in stats if d["mediaType"] == "audio"]
    assert all("layer" not in d for d in stats if d["mediaType"] == "audio")
    summary = run.one(elastic_type="publisherSummary", streamId=stream)
    assert summary["simulcastLayers"] == len(sent)


def test_candidates_are_clean_and_as_janus_selected_them(browser_run: BrowserRun) -> None:
    run = browser_run
    for role, record in run.roles.items():
        handles = [record, *record["subscriptions"].values()]
        own = {
            (h["stats"]["pair"]["local"]["address"], h["stats"]["pair"]["local"]["port"])
            for h in handles
            if h.get("stats") and h["stats"].get("pair")
        }
        pairs = run.docs(
            elastic_type="kms",
            type="NewCandidatePairSelected",
            connectionId=run.connection_id(role),
        )
        assert pairs, role
        by_endpoint: dict[str, Doc] = {}
        for pair in sorted(pairs, key=lambda d: d["timestamp"]):
            remote = pair["candidatePair"]["remoteCandidate"]
            assert "\r" not in remote
            assert "\n" not in remote
            by_endpoint[pair["endpoint"]] = pair
        for pair in by_endpoint.values():
            fields = pair["candidatePair"]["remoteCandidate"].split()
            # The browser's own address: a host candidate, or peer-reflexive when the browser's
            # connectivity check reached Janus before its trickled candidate did (RFC 8445
            # 7.3.1.3; a race either side can win, with the same address and port).
            assert fields[fields.index("typ") + 1] in {"host", "prflx"}, pair
            assert (fields[4], int(fields[5])) in own, (role, fields, own)


def test_identities_are_what_janus_knew(browser_run: BrowserRun, running_stack: Settings) -> None:
    run = browser_run
    for role, record in run.roles.items():
        cid = run.connection_id(role)
        joined = run.one(elastic_type="cdr", event="participantJoined", connectionId=cid)
        assert joined["clientData"] == (record["display"] or "")
        summary = run.one(elastic_type="connectionSummary", connectionId=cid)
        assert summary["ip"] == running_stack.client_address  # where ICE reached the browser


def test_nothing_is_made_up_for_what_janus_did_not_measure(browser_run: BrowserRun) -> None:
    run = browser_run
    for role in ("viewer", "watcher"):
        stats = run.docs(elastic_type="webrtcStats", connectionId=run.connection_id(role))
        assert stats
        assert all("targetBitrate" not in d for d in stats)  # Chrome sends TWCC, not REMB
    for role in ("simulcast", "plain"):
        pub = run.one(elastic_type="publisherSummary", connectionId=run.connection_id(role))
        assert "videoDimensions" not in pub  # Janus's events carry no resolution...
        assert "videoFramerate" not in pub  # ... nor a frame rate
