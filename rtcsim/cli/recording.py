"""``rtcsim recording inspect|convert``: look into a recording, or (re)make one from its .mjr files.

``convert`` redoes offline what a run does after a stop: point it at a recording's
``results/<run-id>/recordings-mjr/<recording-id>/`` folder. Errors are printed in one line and
exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rtcsim.cli.framework import App
from simulator.recording import mjr
from simulator.recording.media_info import folder_size, probe
from simulator.recording.options import OutputMode, RecordingOptions
from simulator.recording.pipeline import RecordingJob, produce
from simulator.recording.pprec import PpRecError

app = App(
    name="recording",
    help="Inspect recordings, or make INDIVIDUAL/COMPOSED files from Janus .mjr recordings.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
EXIT_ERROR = 2
MEDIA_SUFFIXES = {".webm", ".opus", ".mkv", ".mp4", ".ogg"}


@app.command()
def inspect(
    path: Annotated[
        Path, typer.Argument(help="a recording's folder or one of its files", metavar="PATH")
    ],
) -> None:
    """Streams, resolution, duration and size of every media file."""
    if not path.exists():
        err.print(f"[red]error: {path}: no such file or folder[/]", highlight=False)
        raise typer.Exit(EXIT_ERROR)
    files = (
        sorted(p for p in path.iterdir() if p.suffix in MEDIA_SUFFIXES) if path.is_dir() else [path]
    )
    if not files:
        err.print(f"[red]no media file in {path}[/]")
        raise typer.Exit(EXIT_ERROR)
    table = Table("file", "streams", "codecs", "resolution", "duration s", "bytes")
    for file in files:
        try:
            info = probe(file)
        except Exception as exc:  # a broken file is a line of the report, not a crash
            table.add_row(file.name, "-", f"unreadable: {exc}", "-", "-", str(file.stat().st_size))
            continue
        resolution = f"{info.width}x{info.height}" if info.width else "-"
        table.add_row(
            file.name,
            ",".join(info.kinds),
            ",".join(info.codecs),
            resolution,
            f"{info.duration_s:.3f}",
            str(info.size),
        )
    out.print(table)
    if path.is_dir():
        out.print(f"folder: {folder_size(path)} bytes")


@app.command()
def convert(
    raw_dir: Annotated[
        Path, typer.Argument(help="folder of a recording's .mjr files", metavar="RAW_DIR")
    ],
    out_dir: Annotated[
        Path, typer.Argument(help="where the files go (emptied first)", metavar="OUT_DIR")
    ],
    mode: Annotated[OutputMode, typer.Option(help="INDIVIDUAL or COMPOSED")] = OutputMode.COMPOSED,
    audio: Annotated[bool, typer.Option(help="keep audio")] = True,
    video: Annotated[bool, typer.Option(help="keep video")] = True,
    resolution: Annotated[str, typer.Option(help="COMPOSED canvas")] = "1280x720",
    frame_rate: Annotated[int, typer.Option(help="COMPOSED frames per second")] = 25,
    recording_id: Annotated[str, typer.Option(help="names the COMPOSED file")] = "recording",
) -> None:
    """Make a recording's files from .mjr files; the recording spans its tracks."""
    try:
        options = RecordingOptions(
            output_mode=mode,
            has_audio=audio,
            has_video=video,
            resolution=resolution,
            frame_rate=frame_rate,
        )
        tracks = [mjr.read(p) for p in mjr.find(raw_dir)]
        if not tracks:
            raise PpRecError(f"no VideoRoom .mjr file in {raw_dir}")
        started_ms = min(t.created_us for t in tracks) // 1000
        stopped_ms = max(t.first_packet_us // 1000 + int(t.duration_s * 1000) for t in tracks)
        result = produce(
            RecordingJob(
                recording_id=recording_id,
                session_id=recording_id,
                options=options,
                started_ms=started_ms,
                stopped_ms=stopped_ms,
                raw_dir=raw_dir,
                out_dir=out_dir,
            )
        )
    except (PpRecError, ValueError, OSError) as exc:
        err.print(f"[red]{type(exc).__name__}: {exc}[/]", highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
    out.print(
        f"{len(result.files)} files, {result.size} bytes, {result.duration_s:.3f} s in {out_dir}"
    )
