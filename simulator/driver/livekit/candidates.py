"""Trickle ICE in LiveKit's ``TrickleRequest`` (aiortc's side: ``simulator.peers.trickle``).

LiveKit carries each candidate as ``TrickleRequest.candidateInit``: the JSON of a W3C
``RTCIceCandidateInit`` (``{"candidate": "candidate:...", "sdpMid": "0", "sdpMLineIndex": 0,
"usernameFragment": ...}``), with ``target`` saying which of the two peer connections it is
for, and ``final`` once the sender gathered all. LiveKit's own SDPs carry no candidates (pion
trickles them), so the peers must add what the server trickles.

aiortc gathers every local candidate before ``setLocalDescription`` returns and puts them in
the SDP; rtcsim also trickles them, as a browser does, so the server sees both paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

CANDIDATE_PREFIX = "candidate:"


@dataclass(frozen=True)
class TrickledCandidate:
    """One candidate of one m-section, as both sides name it."""

    candidate: str  # "candidate:..." as in an a=candidate line, without "a="
    sdp_mid: str | None
    sdp_mline_index: int | None

    def to_json(self) -> str:
        init: dict[str, object] = {"candidate": self.candidate}
        if self.sdp_mid is not None:
            init["sdpMid"] = self.sdp_mid
        if self.sdp_mline_index is not None:
            init["sdpMLineIndex"] = self.sdp_mline_index
        return json.dumps(init)

    @property
    def address(self) -> str:
        """The candidate's connection address (fifth field)."""
        fields = self.candidate.removeprefix(CANDIDATE_PREFIX).split()
        return fields[4] if len(fields) > 4 else ""


def parse_candidate_init(text: str) -> TrickledCandidate | None:
    """A ``candidateInit`` as LiveKit sends it; None for an empty candidate (end of them).

    Raises ``ValueError`` for JSON that is no candidate init.
    """
    init = json.loads(text)
    if not isinstance(init, dict):
        raise ValueError(f"candidateInit is not a JSON object: {text!r}")
    candidate = str(init.get("candidate") or "").strip()
    if not candidate:
        return None
    mid = init.get("sdpMid")
    index = init.get("sdpMLineIndex")
    return TrickledCandidate(
        candidate,
        None if mid is None else str(mid),
        None if index is None else int(index),
    )


def local_candidates(sdp: str) -> list[TrickledCandidate]:
    """The candidates of an aiortc SDP, once each (BUNDLE repeats them in every m-section),
    named by the first m-section that carries them, as a browser trickles them."""
    sections: list[tuple[str | None, list[str]]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append((None, []))
        elif sections and line.startswith("a=mid:"):
            sections[-1] = (line.removeprefix("a=mid:").strip(), sections[-1][1])
        elif sections and line.startswith("a=candidate:"):
            sections[-1][1].append(line.removeprefix("a=").strip())
    found: list[TrickledCandidate] = []
    seen: set[str] = set()
    for index, (mid, candidates) in enumerate(sections):
        for candidate in candidates:
            if candidate not in seen:
                seen.add(candidate)
                found.append(TrickledCandidate(candidate, mid, index))
    return found
