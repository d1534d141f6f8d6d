"""What a produced file really holds, read back with PyAV (there is no ffprobe here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    kinds: tuple[str, ...]
    codecs: tuple[str, ...]
    width: int | None
    height: int | None
    duration_s: float
    size: int


def probe(path: Path) -> MediaInfo:
    """Stream kinds, codecs, video size and duration (container's, else the longest stream's)."""
    with av.open(str(path)) as container:
        streams = list(container.streams)
        video = container.streams.video[0] if container.streams.video else None
        duration_s = container.duration / av.time_base if container.duration else 0.0
        if not duration_s:
            for stream in streams:
                if stream.duration and stream.time_base:
                    duration_s = max(duration_s, float(stream.duration * stream.time_base))
        return MediaInfo(
            path=path,
            kinds=tuple(s.type for s in streams),
            codecs=tuple(s.codec_context.name for s in streams),
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            duration_s=duration_s,
            size=path.stat().st_size,
        )


def folder_size(folder: Path) -> int:
    """Bytes on disk of every regular file under ``folder`` (what a zip of it would hold)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
