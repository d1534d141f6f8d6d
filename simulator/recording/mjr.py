"""Janus's ``.mjr`` recordings: which stream a file holds, and its header.

A VideoRoom recorder names its files ``videoroom-<room>-user-<id>-<µs>-<audio|video>-<mindex>.mjr``
(measured, ``janus-aiortc.md`` §5); ``<id>`` is the publisher id, i.e. the OpenVidu
connectionId. ``janus-pp-rec -j -e`` prints the header as JSON: ``t`` (a/v), ``c`` (codec),
``s`` (recorder created, µs), ``u`` (first packet written, µs) and, extended, the packet count
and duration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from simulator.recording.pprec import CommandRunner, PpRecError, run_pprec

NAME = re.compile(
    r"^videoroom-(?P<room>.+)-user-(?P<user>.+)-(?P<us>\d+)-(?P<kind>audio|video)-(?P<mindex>\d+)\.mjr$"
)


@dataclass(frozen=True)
class MjrFile:
    """One recorded track of one publisher."""

    path: Path
    connection_id: str
    kind: str
    codec: str
    created_us: int
    first_packet_us: int
    packets: int
    duration_s: float

    @property
    def extension(self) -> str:
        """What ``janus-pp-rec`` writes for this codec (VP8 -> WebM, Opus -> Ogg/Opus)."""
        return {"vp8": "webm", "vp9": "webm", "opus": "opus", "h264": "mp4"}.get(self.codec, "mkv")


def parse_name(path: Path) -> tuple[str, str, int] | None:
    """(connection id, kind, µs) from a VideoRoom recording's name; ``None`` if not one."""
    match = NAME.match(path.name)
    if match is None:
        return None
    return match["user"], match["kind"], int(match["us"])


def read(path: Path, runner: CommandRunner = run_pprec) -> MjrFile:
    """The file's identity (from its name) and header (from ``janus-pp-rec -j -e``)."""
    named = parse_name(path)
    if named is None:
        raise PpRecError(f"{path.name} is not a VideoRoom recording file")
    connection, kind, created_us = named
    result = runner(["-j", "-e", str(path)])
    header = _last_json_line(result.stdout)
    if result.returncode != 0 or header is None:
        raise PpRecError(
            f"janus-pp-rec cannot read the header of {path.name} "
            f"(exit {result.returncode}): {result.tail()}"
        )
    extended = header.get("extended", {})
    return MjrFile(
        path=path,
        connection_id=connection,
        kind=kind,
        codec=str(header.get("c", "")),
        created_us=int(header.get("s", created_us)),
        first_packet_us=int(header.get("u") or header.get("s") or created_us),
        packets=int(extended.get("packets", 0)),
        duration_s=float(extended.get("duration", 0.0)),
    )


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def find(folder: Path) -> list[Path]:
    """Every VideoRoom ``.mjr`` in ``folder``, oldest recorder first."""
    found = [p for p in folder.glob("*.mjr") if parse_name(p) is not None]
    return sorted(found, key=lambda p: (parse_name(p) or ("", "", 0))[2])
