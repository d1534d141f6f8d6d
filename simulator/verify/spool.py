"""The documents a run was verified against, kept beside its results as they streamed past.

Verification never holds a run's documents together (``simulator.verify.verdict``); whoever
wants them all afterwards (a test looking at one summary, a person after Elasticsearch is gone)
reads ``results/<run-id>/documents.ndjson.gz``: one JSON document a line, in timestamp order,
exactly what the checks saw. gzip at its fastest level: documents repeat their keys, so a
27,000-document run takes a few MB.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import orjson

from simulator.verify.store_reader import Document

FILE_NAME = "documents.ndjson.gz"


class DocumentSpool:
    """Writes documents one at a time to a temporary file, moved into place on success (an
    interrupted read leaves no partial file where a complete one is expected)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._partial = path.with_name(path.name + ".partial")
        self._file: gzip.GzipFile | None = None

    def __enter__(self) -> DocumentSpool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = gzip.open(self._partial, "wb", compresslevel=1)
        return self

    def write(self, doc: Document) -> None:
        assert self._file is not None, "use the spool as a context manager"
        self._file.write(orjson.dumps(doc) + b"\n")
        self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._file is not None
        self._file.close()
        if exc_type is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)


def read_spool(path: Path) -> Iterator[Document]:
    """The spooled documents, one at a time; none if the run wrote no spool."""
    if not path.is_file():
        return
    with gzip.open(path, "rb") as file:
        for line in file:
            if line.strip():
                yield orjson.loads(line)
