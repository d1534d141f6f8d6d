"""``rtcsim recording inspect|convert`` through typer's runner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rtcsim.cli.recording import app

runner = CliRunner()


def test_inspect_lists_streams_resolution_and_folder_size(media_dir: Path) -> None:
    result = runner.invoke(app, ["inspect", str(media_dir)])
    assert result.exit_code == 0, result.output
    assert "160x120" in result.output
    assert "opus" in result.output
    assert "folder:" in result.output


def test_convert_of_a_folder_without_recordings_exits_2_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(tmp_path), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no VideoRoom .mjr file" in result.output
