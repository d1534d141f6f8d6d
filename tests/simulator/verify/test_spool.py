"""The spool of a run's documents: written as they pass, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.verify.spool import DocumentSpool, read_spool


def test_spooled_documents_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "documents.ndjson.gz"
    with DocumentSpool(path) as spool:
        for n in range(3):
            spool.write({"n": n})
    assert spool.count == 3
    assert list(read_spool(path)) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_read_that_fails_leaves_no_spool_behind(tmp_path: Path) -> None:
    path = tmp_path / "documents.ndjson.gz"

    def read() -> None:
        with DocumentSpool(path) as spool:
            spool.write({"n": 0})
            raise RuntimeError("Elasticsearch went away")

    with pytest.raises(RuntimeError):
        read()
    assert list(tmp_path.iterdir()) == []
    assert list(read_spool(path)) == []
