"""The ``_bulk`` body the Elasticsearch store builds, and how it reads the answer (no server)."""

from __future__ import annotations

from typing import Any

import orjson

from collector.store import ElasticsearchStore


class FakeClient:
    """Answers ``bulk`` with a canned response and keeps the bodies it was sent."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.bodies: list[bytes] = []
        self.filters: list[str | None] = []

    async def bulk(self, *, operations: bytes, filter_path: str | None = None) -> dict[str, Any]:
        self.bodies.append(operations)
        self.filters.append(filter_path)
        if filter_path == "errors":
            return {"errors": self.response["errors"]}
        return self.response


def ndjson(body: bytes) -> list[Any]:
    return [orjson.loads(line) for line in body.splitlines()]


async def test_the_bulk_body_is_one_index_action_and_one_source_line_per_document() -> None:
    client = FakeClient({"errors": False, "items": [{"index": {"status": 201}}] * 2})
    store = ElasticsearchStore(client, "openvidu")  # type: ignore[arg-type]
    result = await store.write([("a", {"x": 1, "s": "é"}), ("b", {"y": [1, 2]})])
    assert result.written == 2
    assert not result.errors
    [body] = client.bodies
    assert body.endswith(b"\n")
    assert ndjson(body) == [
        {"index": {"_index": "openvidu", "_id": "a"}},
        {"x": 1, "s": "é"},
        {"index": {"_index": "openvidu", "_id": "b"}},
        {"y": [1, 2]},
    ]


async def test_an_answer_with_errors_is_read_item_by_item() -> None:
    refused = {"type": "mapper_parsing_exception", "reason": "bad date"}
    response = {
        "errors": True,
        "items": [
            {"index": {"_id": "a", "status": 201}},
            {"index": {"_id": "b", "status": 400, "error": refused}},
        ],
    }
    store = ElasticsearchStore(FakeClient(response), "openvidu")  # type: ignore[arg-type]
    result = await store.write([("a", {"x": 1}), ("b", {"x": "y"})])
    assert result.written == 1
    assert result.errors == [("b", "mapper_parsing_exception: bad date")]
    assert not result.deferred


async def test_a_bulk_without_errors_asks_for_no_item_results() -> None:
    client = FakeClient({"errors": False, "items": [{"index": {"status": 201}}] * 2})
    store = ElasticsearchStore(client, "openvidu")  # type: ignore[arg-type]
    result = await store.write([("a", {"x": 1}), ("b", {"x": 2})])
    assert result.written == 2
    assert client.filters == ["errors"]


async def test_a_bulk_with_an_error_is_sent_again_for_its_item_results() -> None:
    refused = {"type": "mapper_parsing_exception", "reason": "bad date"}
    response = {
        "errors": True,
        "items": [
            {"index": {"_id": "a", "status": 201}},
            {"index": {"_id": "b", "status": 400, "error": refused}},
        ],
    }
    client = FakeClient(response)
    store = ElasticsearchStore(client, "openvidu")  # type: ignore[arg-type]
    result = await store.write([("a", {"x": 1}), ("b", {"x": "y"})])
    assert client.filters == ["errors", None]
    assert client.bodies[0] == client.bodies[1]
    assert result.written == 1
    assert result.errors == [("b", "mapper_parsing_exception: bad date")]
