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
from typing import TYPE_CHECKING, Any

from simulator.verify.checks import Check
from simulator.verify.store_reader import Document

if TYPE_CHECKING:
    from simulator.verify.digest import RunDigest


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


def schema_problems(elastic_type: str, doc: Document) -> list[str]:
    """What the document lacks or types differently from the seed's example."""
    example = seed_examples()[elastic_type]
    problems = []
    for key, value in example.items():
        if key not in doc:
            problems.append(f"missing {key}")
        elif json_type(doc[key]) != json_type(value):
            problems.append(f"{key} is {json_type(doc[key])}, OpenVidu has {json_type(value)}")
    return problems


def schema_checks(documents: list[Document], required: set[str]) -> list[Check]:
    """One check per document type: present (when required) and shaped like OpenVidu's."""
    from simulator.verify.digest import RunDigest  # the digest tallies with this module

    return digest_schema_checks(RunDigest.of(documents), required)


def digest_schema_checks(digest: RunDigest, required: set[str]) -> list[Check]:
    """:func:`schema_checks` from the tallies a digest made while the documents passed."""
    checks = []
    for elastic_type in seed_examples():
        tally = digest.schema.get(elastic_type)
        if tally is None:
            if elastic_type in required:
                checks.append(Check(f"{elastic_type} documents present", False, ">= 1", 0))
            continue
        problems = sorted(tally.problems)
        checks.append(
            Check(
                f"{elastic_type} fields and JSON types as OpenVidu's",
                not problems,
                "all seed keys, same JSON types",
                problems or f"{tally.compared} of {tally.documents} compared",
            )
        )
    return checks
