"""Documents against OpenVidu's own examples: every key of the seed's example of a type must be
in our document of that type, with the same JSON type (extra keys are allowed, none missing).

The examples are the "Detailed session monitoring" page's (``openvidu_seed.json``, copied from
the page verbatim). Where the page's example is one variant of a type (a ``sessionDestroyed``
cdr event, an ``IceComponentStateChange`` kms event, a publisher's inbound webrtcStats), only
our documents of that same variant are compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from simulator.verify.store_reader import Document


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@cache
def seed_examples() -> dict[str, dict[str, Any]]:
    text = resources.files("simulator.verify").joinpath("openvidu_seed.json").read_text()
    examples: dict[str, dict[str, Any]] = json.loads(text)
    return examples


def _is_publisher_endpoint(doc: Document) -> bool:
    endpoint = str(doc.get("endpoint", ""))
    return endpoint.count("_") == 2 and doc.get("rtcsim_side", "server") == "server"


VARIANTS: dict[str, Callable[[Document], bool]] = {
    "cdr": lambda d: d.get("event") == "sessionDestroyed",
    "kms": lambda d: d.get("type") in ("IceComponentStateChange", "IceComponentStateChanged"),
    "webrtcStats": _is_publisher_endpoint,
    # OpenVidu sends resolution, frameRate and recordingLayout only for COMPOSED with video.
    "recordingSummary": lambda d: d.get("outputMode") != "INDIVIDUAL" and bool(d.get("hasVideo")),
}


UNMEASURED: dict[str, frozenset[str]] = {
    "webrtcStats": frozenset({"firCount", "pliCount", "sliCount"}),
}
"""Seed keys no supported server measures: Janus counts no FIR, PLI or SLI per handle (its media
stats events carry NACKs only) and LiveKit reports no per-endpoint stats at all. They are left
out of our documents rather than written as a 0 nobody counted, so their absence is not a
problem; present, they must still have the seed's JSON type."""


def schema_problems(elastic_type: str, doc: Document) -> list[str]:
    """What the document lacks or types differently from the seed's example."""
    example = seed_examples()[elastic_type]
    unmeasured = UNMEASURED.get(elastic_type, frozenset())
    problems = []
    for key, value in example.items():
        if key not in doc:
            if key not in unmeasured:
                problems.append(f"missing {key}")
        elif json_type(doc[key]) != json_type(value):
            problems.append(f"{key} is {json_type(doc[key])}, OpenVidu has {json_type(value)}")
    return problems
