"""A run's verdict as JUnit XML (``results/<run-id>/junit.xml``), for CI test reports.

One ``testsuite`` per run, one ``testcase`` per check; a failed check is a ``failure`` whose
message gives what was expected and what was found. The shape is the one CI servers read
(Jenkins' and GitLab's JUnit importers; the schema of Ant's JUnit task): ``testsuites`` ▸
``testsuite`` (``name``, ``tests``, ``failures``, ``errors``, ``skipped``, ``time``,
``timestamp``) ▸ ``properties`` and ``testcase`` (``classname``, ``name``, ``time``).
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson

from rtcsim.pipeline.outcome import RunOutcome
from simulator.verify.checks import Check

JUNIT_FILE = "junit.xml"
# XML 1.0 forbids most control characters even when escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def junit_xml(outcome: RunOutcome) -> ET.ElementTree[ET.Element]:
    """The run as a JUnit document: a pure function of the outcome."""
    return junit_of([outcome])


def junit_of(
    outcomes: list[RunOutcome], broken: list[tuple[str, str]] | None = None
) -> ET.ElementTree[ET.Element]:
    """Several runs (``rtcsim run a.yaml b.yaml --junit PATH``) as one document: a testsuite
    per run, and one per file that did not run (``broken``: (file, why)) with an error."""
    suites = [_suite(outcome) for outcome in outcomes]
    suites += [_broken_suite(path, why) for path, why in broken or []]
    root = ET.Element(
        "testsuites",
        name="rtcsim",
        tests=str(sum(int(s.get("tests", "0")) for s in suites)),
        failures=str(sum(int(s.get("failures", "0")) for s in suites)),
        errors=str(sum(int(s.get("errors", "0")) for s in suites)),
        time=f"{sum(float(s.get('time', '0')) for s in suites):.3f}",
    )
    root.extend(suites)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit_of(
    outcomes: list[RunOutcome], path: Path, broken: list[tuple[str, str]] | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_of(outcomes, broken).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _suite(outcome: RunOutcome) -> ET.Element:
    checks = outcome.checks
    failures = sum(1 for check in checks if not check.ok)
    ledger = outcome.ledger
    duration_s = max(0, (ledger.ended_ms or ledger.started_ms) - ledger.started_ms) / 1000
    suite = ET.Element(
        "testsuite",
        name=f"{outcome.scenario} ({outcome.run_id})",
        tests=str(len(checks)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{duration_s:.3f}",
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ledger.started_ms / 1000)),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", outcome.run_id),
        ("scenario", outcome.scenario),
        ("results_dir", str(outcome.results_dir)),
        ("documents", str(outcome.document_count)),
        *((f"session.{room}", s.session_id) for room, s in ledger.sessions.items()),
    ):
        ET.SubElement(properties, "property", name=name, value=_text(value))
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"rtcsim.{outcome.scenario}",
            name=_text(check.name),
            time="0",
        )
        if not check.ok:
            failure = ET.SubElement(
                case, "failure", type="CheckFailed", message=_text(_expected_found(check))
            )
            failure.text = _text(_failure_text(check))
    return suite


def _broken_suite(path: str, why: str) -> ET.Element:
    suite = ET.Element(
        "testsuite", name=_text(path), tests="1", failures="0", errors="1", skipped="0", time="0"
    )
    case = ET.SubElement(suite, "testcase", classname="rtcsim", name="the scenario runs", time="0")
    error = ET.SubElement(
        case, "error", type="ScenarioError", message=_text(why.splitlines()[0] if why else "")
    )
    error.text = _text(why)
    return suite


def write_junit(outcome: RunOutcome, path: Path | None = None) -> Path:
    """Write ``junit.xml`` into the run's results folder (or ``path``); returns where."""
    target = path or outcome.results_dir / JUNIT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(outcome).write(target, encoding="utf-8", xml_declaration=True)
    return target


def _expected_found(check: Check) -> str:
    return f"expected {_value(check.expected)}, found {_value(check.found)}"


def _failure_text(check: Check) -> str:
    lines = [
        f"check:    {check.name}",
        f"expected: {_value(check.expected)}",
        f"found:    {_value(check.found)}",
    ]
    if check.detail:
        lines.append(f"detail:   {check.detail}")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


def _text(value: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", value)
