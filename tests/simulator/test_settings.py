"""Where the settings put things when nothing says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.settings import Settings


def test_results_and_state_default_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.results_dir == tmp_path / "results"
    assert settings.state_dir == tmp_path / ".run"


def test_an_rtcsim_toml_in_the_working_folder_moves_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rtcsim.toml").write_text('results_dir = "/srv/rtcsim-results"\n')
    monkeypatch.chdir(tmp_path)
    assert Settings().results_dir == Path("/srv/rtcsim-results")
