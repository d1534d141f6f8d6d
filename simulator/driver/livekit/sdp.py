"""The m-sections of a publisher's offer, as LiveKit needs them named before it sees the offer.

LiveKit matches each ``AddTrackRequest`` (by its ``cid``) to the m-line whose ``a=msid`` names
the same track id (livekit-server ``participant.go``: pending tracks matched by signal cid), so
the driver reads every m-section's kind, mid, direction and msid track id from the offer.
"""

from __future__ import annotations

from dataclasses import dataclass

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


@dataclass(frozen=True)
class MediaSection:
    kind: str
    mid: str | None
    direction: str
    track_id: str | None
    """The msid's track id (a=msid:<stream> <track>): LiveKit's ``cid`` for the track."""
    simulcast: bool

    @property
    def sends(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")


def media_sections(sdp: str) -> list[MediaSection]:
    """Every audio and video m-section of ``sdp``, in order."""
    found: list[MediaSection] = []
    current: dict[str, str | bool | None] | None = None

    def close() -> None:
        if current is not None and current["kind"] in ("audio", "video"):
            found.append(
                MediaSection(
                    kind=str(current["kind"]),
                    mid=current["mid"] if isinstance(current["mid"], str) else None,
                    direction=str(current["direction"]),
                    track_id=current["track"] if isinstance(current["track"], str) else None,
                    simulcast=bool(current["simulcast"]),
                )
            )

    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            close()
            kind = line[2:].split(" ", 1)[0]
            current = {
                "kind": kind,
                "mid": None,
                "direction": "sendrecv",
                "track": None,
                "simulcast": False,
            }
        elif current is None:
            continue
        elif line.startswith("a=mid:"):
            current["mid"] = line[len("a=mid:") :]
        elif line[2:] in DIRECTIONS and line.startswith("a="):
            current["direction"] = line[2:]
        elif line.startswith("a=msid:"):
            parts = line[len("a=msid:") :].split()
            current["track"] = parts[1] if len(parts) > 1 else parts[0] if parts else None
        elif line.startswith("a=simulcast:"):
            current["simulcast"] = True
    close()
    return found
