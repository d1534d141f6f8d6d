"""An export's file appears only when the export is whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.verify.export import ExportIncomplete, atomic_output


def test_a_finished_export_is_moved_into_place(tmp_path: Path) -> None:
    target = tmp_path / "run.ndjson"
    with atomic_output(target) as file:
        file.write(b"{}\n")
    assert target.read_bytes() == b"{}\n"
    assert list(tmp_path.iterdir()) == [target]


def test_an_incomplete_export_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "run.ndjson"

    def export() -> None:
        with atomic_output(target) as file:
            file.write(b"{}\n")
            raise ExportIncomplete("wrote 10000 documents, but the run holds 27037")

    with pytest.raises(ExportIncomplete):
        export()
    assert list(tmp_path.iterdir()) == []
