"""Who a LiveKit participant knows of in its room, from the server's participant updates."""

import asyncio

from livekit.protocol import models

from simulator.driver.livekit import roster
from simulator.driver.livekit.roster import Roster


def info(identity: str, sid: str, *tracks: tuple[str, int]) -> models.ParticipantInfo:
    return models.ParticipantInfo(
        identity=identity,
        sid=sid,
        state=models.ParticipantInfo.ACTIVE,
        tracks=[models.TrackInfo(sid=t, type=kind) for t, kind in tracks],  # type: ignore[misc]
    )


def test_updates_name_each_participant_by_sid_and_list_its_tracks_by_kind() -> None:
    known = Roster("me")
    known.update([info("me", "PA_me"), info("alice", "PA_a", ("TR_1", models.TrackType.AUDIO))])
    assert known.by_sid == {"PA_me": "me", "PA_a": "alice"}
    assert list(known.others) == ["alice"]
    assert known.tracks("alice") == {"TR_1": "audio"}
    gone = models.ParticipantInfo(identity="alice", sid="PA_a")
    gone.state = models.ParticipantInfo.DISCONNECTED
    known.update([gone])
    assert known.tracks("alice") == {}


def test_a_publication_counts_once_its_tracks_stayed_the_same_for_the_settle_time() -> None:
    async def main() -> tuple[dict[str, str], float]:
        known = Roster("me")
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def publish() -> None:
            known.update([info("alice", "PA_a", ("TR_1", models.TrackType.AUDIO))])
            await asyncio.sleep(0.1)
            known.update(
                [
                    info(
                        "alice",
                        "PA_a",
                        ("TR_1", models.TrackType.AUDIO),
                        ("TR_2", models.TrackType.VIDEO),
                    )
                ]
            )

        task = asyncio.create_task(publish())
        tracks = await known.published("alice", 5.0)
        await task
        return tracks, loop.time() - started

    tracks, took_s = asyncio.run(main())
    assert tracks == {"TR_1": "audio", "TR_2": "video"}
    assert took_s >= 0.1 + roster.SETTLE_S - 0.05


def test_nobody_publishing_within_the_time_gives_no_tracks() -> None:
    assert asyncio.run(Roster("me").published("alice", 0.05)) == {}
