"""Small synthetic media files and a fake ``janus-pp-rec``, so unit tests need no Janus."""

from __future__ import annotations

import shutil
from array import array
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import orjson

from simulator.recording.pprec import CommandResult

T0_US = 1_795_880_000_000_000


def write_video(
    path: Path, *, width: int = 160, height: int = 120, fps: int = 15, seconds: float = 1.0
) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream(
            "libvpx", rate=fps, options={"deadline": "realtime", "cpu-used": "8"}
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane, value in zip(frame.planes, (40 + index * 3 % 200, 128, 128), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_audio(path: Path, *, seconds: float = 1.0, fmt: str = "ogg") -> Path:
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("libopus", rate=48_000)
        stream.layout, stream.format = "stereo", "s16"
        for index in range(round(seconds * 50)):
            frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
            frame.planes[0].update(array("h", [1000, -1000] * 960).tobytes())
            frame.sample_rate, frame.pts, frame.time_base = 48_000, index * 960, Fraction(1, 48_000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def mjr_name(room: str, connection: str, kind: str, offset_s: float = 0.0) -> str:
    mindex = 0 if kind == "audio" else 1
    return f"videoroom-{room}-user-{connection}-{T0_US + int(offset_s * 1e6)}-{kind}-{mindex}.mjr"


class FakePpRec:
    """Answers ``-j -e`` from the file name and "converts" by copying a prepared file."""

    def __init__(self, video: Path, audio: Path, *, fail_on: str | None = None, packets: int = 100):
        self.video, self.audio, self.fail_on, self.packets = video, audio, fail_on, packets
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> CommandResult:
        self.calls.append(list(args))
        if args[0] == "-j":
            name = Path(args[-1]).name
            kind = "a" if "-audio-" in name else "v"
            created = int(name.split("-")[-3])
            header = {
                "t": kind,
                "c": "opus" if kind == "a" else "vp8",
                "s": created,
                "u": created + 20_000,
                "extended": {"packets": self.packets, "duration": 1.0},
            }
            return CommandResult(0, orjson.dumps(header).decode() + "\n", "")
        source, target = Path(args[0]), Path(args[1])
        if self.fail_on is not None and self.fail_on in source.name:
            return CommandResult(1, "", "Pre-parsing file...\n[WARN] Invalid header at offset 0\n")
        shutil.copyfile(self.audio if target.suffix == ".opus" else self.video, target)
        return CommandResult(0, f"{target} is {target.stat().st_size} bytes\nBye!\n", "")
