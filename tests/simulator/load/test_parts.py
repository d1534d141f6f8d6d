import hashlib

import pytest

from simulator.load.parts import (
    Assembly,
    Origin,
    PartError,
    chunk_messages,
    missing,
    no_part_message,
)

ORIGIN = Origin(index=1, host="box-b", pid=4242)


def test_a_part_cut_into_chunks_comes_back_whole_in_any_order() -> None:
    text = '{"run_id": "r", "participants": {' + "x" * 2500 + "}}"
    messages = chunk_messages(ORIGIN, text, size=1000)
    assert len(messages) == 3
    assembly = Assembly()
    assert assembly.add("client-b", messages[2]) is None
    assert assembly.add("client-b", messages[0]) is None
    assert assembly.add("client-b", messages[1]) == (ORIGIN, text)
    assert assembly.pending == {}


def test_two_workers_chunks_interleaved_do_not_mix() -> None:
    a = chunk_messages(Origin(0, "a", 1), "A" * 30, size=10)
    b = chunk_messages(Origin(1, "b", 1), "B" * 30, size=10)
    assembly = Assembly()
    done = [
        assembly.add(cid, m)
        for pair in zip(a, b, strict=True)
        for cid, m in zip(("ca", "cb"), pair, strict=True)
    ]
    complete = [d for d in done if d is not None]
    assert [(o.host, t) for o, t in complete] == [("a", "A" * 30), ("b", "B" * 30)]


def test_an_empty_part_is_still_one_message() -> None:
    [message] = chunk_messages(ORIGIN, "")
    assert Assembly().add("c", message) == (ORIGIN, "")


def test_a_worker_without_users_says_so_and_is_done() -> None:
    assert Assembly().add("c", no_part_message(ORIGIN)) == (ORIGIN, None)


def test_a_corrupt_part_is_refused_naming_its_worker() -> None:
    [message] = chunk_messages(ORIGIN, "{}")
    message["sha256"] = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(PartError, match="4242-w1-box-b"):
        Assembly().add("c", message)


def test_a_message_that_is_no_chunk_is_refused() -> None:
    with pytest.raises(PartError, match="from c"):
        Assembly().add("c", {"index": 0, "host": "h"})


def test_the_label_leads_with_the_pid_like_a_part_a_process_writes() -> None:
    assert Origin(2, "my host/1", 77).label == "77-w2-my-host-1"


def test_missing_names_the_workers_that_did_not_deliver() -> None:
    expected = {"c1": "worker 0 (c1)", "c2": "worker 1 (c2)"}
    assert missing(expected, {"c1"}) == ["worker 1 (c2)"]
    assert missing(expected, {"c1", "c2"}) == []
