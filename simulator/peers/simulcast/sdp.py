"""Turning aiortc's offer into the offer a browser makes for a simulcast camera.

aiortc 1.16 has no simulcast (one encoding per sender), so the publisher builds its video
m-section as ``recvonly`` (aiortc then starts no sender of its own for it) and this module
rewrites that section, before it goes to Janus, into what Chrome sends for
``sendEncodings: [{rid: "h"}, {rid: "m"}, {rid: "l"}]``:

* ``a=sendonly``;
* the RTP stream id header extensions, ``urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id`` and
  ``...:repaired-rtp-stream-id`` (RFC 8852), so each packet says which layer (or which layer's
  retransmission) it is: Janus learns a layer's SSRC from the first packet carrying its rid;
* ``a=rid:<rid> send`` per layer and ``a=simulcast:send h;m;l`` (RFC 8851, RFC 8853);
* no ``a=ssrc`` / ``a=ssrc-group`` lines: a browser announces no SSRCs for rid-based simulcast.

Only the text sent to Janus changes; aiortc keeps its own description. Header extension ids
are chosen unused in the whole SDP: with BUNDLE one id means one extension on every m-line.
"""

from __future__ import annotations

from collections.abc import Sequence

from simulator.peers.simulcast.layers import RIDS

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ONE_BYTE_MAX_ID = 14  # RFC 8285 §4.2: ids 1-14 in one-byte headers
DIRECTIONS = ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive")


class SimulcastSdpError(ValueError):
    """The SDP has no m-section to turn into simulcast, or the answer refused it."""


def _split(sdp: str) -> tuple[str, list[list[str]]]:
    """(line separator, [session lines, m-section 1 lines, ...])."""
    newline = "\r\n" if "\r\n" in sdp else "\n"
    sections: list[list[str]] = [[]]
    for line in sdp.split(newline):
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    return newline, sections


def _join(newline: str, sections: list[list[str]]) -> str:
    return newline.join(line for section in sections for line in section)


def _section_of(sections: list[list[str]], mid: str) -> list[str]:
    for section in sections[1:]:
        if f"a=mid:{mid}" in section:
            return section
    raise SimulcastSdpError(f"the SDP has no m-section with mid {mid!r}")


def extension_ids(sdp: str, mid: str) -> dict[str, int]:
    """The header extensions of the ``mid`` m-section, by URI (``a=extmap:<id> <uri>``)."""
    _newline, sections = _split(sdp)
    ids: dict[str, int] = {}
    for line in _section_of(sections, mid):
        if line.startswith("a=extmap:"):
            key, _, rest = line[len("a=extmap:") :].partition(" ")
            uri = rest.split(" ")[0]
            ids[uri] = int(key.split("/")[0])
    return ids


def _used_ids(sections: list[list[str]]) -> set[int]:
    used = set()
    for section in sections:
        for line in section:
            if line.startswith("a=extmap:"):
                used.add(int(line[len("a=extmap:") :].split(" ")[0].split("/")[0]))
    return used


def simulcast_offer(sdp: str, mid: str, rids: Sequence[str] = RIDS) -> str:
    """``sdp`` with the ``mid`` video m-section rewritten as a browser's simulcast offer."""
    newline, sections = _split(sdp)
    section = _section_of(sections, mid)
    if not section[0].startswith("m=video"):
        raise SimulcastSdpError(f"mid {mid!r} is not a video m-section: {section[0]!r}")
    kept = [
        line
        for line in section
        if not line.startswith(("a=ssrc:", "a=ssrc-group:", "a=rid:", "a=simulcast:"))
        and line not in DIRECTIONS
    ]
    present = {line.split(" ", 1)[1].split(" ")[0] for line in kept if line.startswith("a=extmap:")}
    free = (i for i in range(1, ONE_BYTE_MAX_ID + 1) if i not in _used_ids(sections))
    extmaps = []
    for uri in (RID_URI, REPAIRED_RID_URI):
        if uri not in present:
            try:
                extmaps.append(f"a=extmap:{next(free)} {uri}")
            except StopIteration:
                raise SimulcastSdpError("no header extension id left for the rid") from None
    # Direction first after the c= line, extensions with the others, rids after the codecs:
    # where Chrome writes them (attribute order carries no meaning, RFC 8866 §5).
    out = [kept[0]]
    body = kept[1:]
    connection = next((i for i, line in enumerate(body) if line.startswith("c=")), -1)
    body.insert(connection + 1, "a=sendonly")
    last_extmap = max((i for i, line in enumerate(body) if line.startswith("a=extmap:")), default=0)
    body[last_extmap + 1 : last_extmap + 1] = extmaps
    codec_lines = ("a=rtpmap:", "a=rtcp-fb:", "a=fmtp:")
    last_codec = max((i for i, line in enumerate(body) if line.startswith(codec_lines)), default=0)
    simulcast = [f"a=rid:{rid} send" for rid in rids] + [f"a=simulcast:send {';'.join(rids)}"]
    body[last_codec + 1 : last_codec + 1] = simulcast
    out += body
    sections[sections.index(section)] = out
    return _join(newline, sections)


def answered_rids(sdp: str, mid: str) -> list[str]:
    """The rids the answer's ``a=simulcast:recv`` accepts for ``mid`` (empty: none)."""
    _newline, sections = _split(sdp)
    for line in _section_of(sections, mid):
        if line.startswith("a=simulcast:"):
            direction, _, rids = line[len("a=simulcast:") :].strip().partition(" ")
            if direction == "recv":
                return [rid.lstrip("~") for rid in rids.replace(",", ";").split(";") if rid]
    return []


def payload_types(sdp: str, mid: str, codec: str = "VP8") -> tuple[int, int | None]:
    """(payload type of ``codec``, its RTX payload type or None) in the ``mid`` m-section."""
    _newline, sections = _split(sdp)
    section = _section_of(sections, mid)
    media: int | None = None
    for line in section:
        if line.startswith("a=rtpmap:"):
            pt, _, name = line[len("a=rtpmap:") :].partition(" ")
            if name.upper().startswith(f"{codec.upper()}/"):
                media = int(pt)
                break
    if media is None:
        raise SimulcastSdpError(f"the answer has no {codec} for mid {mid!r}")
    for line in section:
        if line.startswith("a=fmtp:") and f"apt={media}" in line.replace(" ", ""):
            rtx = int(line[len("a=fmtp:") :].split(" ")[0])
            return media, rtx
    return media, None
