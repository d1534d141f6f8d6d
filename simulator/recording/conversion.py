"""``.mjr`` to playable files with ``janus-pp-rec``: VP8 to ``.webm``, Opus to ``.opus``.

Each converted file starts at the stream's first recorded packet; its offset from the recording's
start comes from the ``.mjr`` header (``u``, first packet written, µs since the epoch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from simulator.recording import mjr
from simulator.recording.media_info import MediaInfo, probe
from simulator.recording.pprec import CommandRunner, PpRecError, run_pprec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Track:
    """One converted track: where it is, what it holds, when it started in the recording."""

    source: mjr.MjrFile
    path: Path
    info: MediaInfo
    offset_s: float

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def end_s(self) -> float:
        return self.offset_s + self.info.duration_s


Namer = Callable[[mjr.MjrFile], str]
"""The output file's stem for a track; a second track with the same stem gets ``-1``, ..."""


def default_name(track: mjr.MjrFile) -> str:
    return f"{track.connection_id}-{track.kind}-{track.created_us}"


def convert_one(source: mjr.MjrFile, target: Path, runner: CommandRunner = run_pprec) -> None:
    result = runner([str(source.path), str(target)])
    if result.returncode != 0:
        raise PpRecError(
            f"janus-pp-rec failed on {source.path.name} (exit {result.returncode}): {result.tail()}"
        )
    if not target.is_file() or target.stat().st_size == 0:
        raise PpRecError(f"janus-pp-rec wrote nothing for {source.path.name}: {result.tail()}")


def convert_folder(
    raw_dir: Path,
    out_dir: Path,
    *,
    kinds: Collection[str],
    started_ms: int,
    runner: CommandRunner = run_pprec,
    name: Namer = default_name,
) -> list[Track]:
    """Convert every track of the requested kinds; tracks with no packet are skipped.

    Raises ``PpRecError`` when a track cannot be converted, and when nothing was recorded.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tracks: list[Track] = []
    stems: dict[str, int] = {}
    sources = [mjr.read(path, runner) for path in mjr.find(raw_dir)]
    wanted = [s for s in sources if s.kind in kinds]
    for source in wanted:
        if source.packets == 0:
            log.warning("%s holds no media packet; left out", source.path.name)
            continue
        stem = name(source)
        key = f"{stem}.{source.extension}"
        serial = stems.get(key, 0)
        stems[key] = serial + 1
        target = out_dir / (f"{stem}-{serial}.{source.extension}" if serial else key)
        convert_one(source, target, runner)
        offset_s = source.first_packet_us / 1e6 - started_ms / 1000
        tracks.append(Track(source, target, probe(target), max(0.0, offset_s)))
    if not tracks:
        found = ", ".join(sorted({s.kind for s in sources})) or "nothing"
        raise PpRecError(
            f"no {'/'.join(sorted(kinds))} media was recorded in {raw_dir} (found: {found})"
        )
    return tracks
