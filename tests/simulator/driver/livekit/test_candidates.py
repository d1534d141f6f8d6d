"""Trickle ICE conversions between LiveKit's candidateInit JSON and aiortc."""

import json

import pytest

from simulator.driver.livekit.candidates import (
    TrickledCandidate,
    local_candidates,
    parse_candidate_init,
)

# What aiortc puts in an offer with BUNDLE: the same candidates in every m-section.
AIORTC_OFFER = """v=0
o=- 3 3 IN IP4 0.0.0.0
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 198.18.24.2
a=mid:0
a=candidate:5c3f 1 udp 2130706431 198.18.24.2 40001 typ host
a=end-of-candidates
m=video 9 UDP/TLS/RTP/SAVPF 97
c=IN IP4 198.18.24.2
a=candidate:5c3f 1 udp 2130706431 198.18.24.2 40001 typ host
a=end-of-candidates
a=mid:1
"""


def test_a_livekit_candidate_init_names_its_candidate_and_m_line() -> None:
    init = json.dumps(
        {
            "candidate": "candidate:1 1 udp 2130706431 198.18.24.1 55583 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "abcd",
        }
    )
    trickled = parse_candidate_init(init)
    assert trickled == TrickledCandidate(
        "candidate:1 1 udp 2130706431 198.18.24.1 55583 typ host", "0", 0
    )
    assert trickled.address == "198.18.24.1"


def test_an_empty_candidate_means_the_end_of_candidates() -> None:
    assert parse_candidate_init(json.dumps({"candidate": "", "sdpMid": "0"})) is None


def test_a_candidate_init_that_is_no_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_candidate_init("[1, 2]")


def test_local_candidates_are_trickled_once_each_named_by_their_first_m_section() -> None:
    found = local_candidates(AIORTC_OFFER)
    assert found == [
        TrickledCandidate("candidate:5c3f 1 udp 2130706431 198.18.24.2 40001 typ host", "0", 0)
    ]


def test_a_trickled_candidate_serialises_as_the_w3c_candidate_init() -> None:
    trickled = TrickledCandidate("candidate:1 1 udp 1 198.18.24.2 5 typ host", "1", 1)
    assert json.loads(trickled.to_json()) == {
        "candidate": "candidate:1 1 udp 1 198.18.24.2 5 typ host",
        "sdpMid": "1",
        "sdpMLineIndex": 1,
    }
