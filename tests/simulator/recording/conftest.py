"""Synthetic media made once per test session (encoding takes a moment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulator.recording.media_fixtures import write_audio, write_video


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    write_video(folder / "small.webm")
    write_video(folder / "wide.webm", width=320, height=180)
    write_audio(folder / "tone.opus")
    return folder
