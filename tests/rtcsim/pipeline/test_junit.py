"""A run's verdict as JUnit XML: one testsuite per run, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rtcsim.pipeline.junit import JUNIT_FILE, junit_xml, write_junit
from rtcsim.pipeline.outcome import RunOutcome
from simulator.ledger import Ledger, SessionRecord
from simulator.verify.checks import Check

STARTED_MS = 1_795_883_156_000


def outcome(tmp_path: Path, checks: list[Check]) -> RunOutcome:
    ledger = Ledger(
        run_id="20261128-162556-32da",
        scenario="smoke",
        seed=7,
        started_ms=STARTED_MS,
        ended_ms=STARTED_MS + 15_250,
        sessions={"smoke": SessionRecord("smoke", "smoke-20261128-162556-32da")},
    )
    documents = [{"elastic_type": "cdr"}] * 14
    return RunOutcome("20261128-162556-32da", "smoke", tmp_path, ledger, documents, checks)


CHECKS = [
    Check("bob received video frames from alice", True, ">= 1", 357),
    Check("cdr participantJoined documents", False, 3, 2, "one join was never reported"),
    Check("alice: ICE candidates inside 198.18.0.0/15", False, ["198.18.0.1"], ["10.0.0.7"]),
]


def test_one_testsuite_per_run_counts_its_checks_and_failures(tmp_path: Path) -> None:
    root = junit_xml(outcome(tmp_path, CHECKS)).getroot()
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "smoke (20261128-162556-32da)"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    assert suite.get("time") == "15.250"
    assert suite.get("timestamp", "").startswith("2026-11-")
    assert (root.get("tests"), root.get("failures")) == ("3", "2")


def test_one_testcase_per_check_in_the_order_of_the_checks(tmp_path: Path) -> None:
    cases = junit_xml(outcome(tmp_path, CHECKS)).getroot().findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [check.name for check in CHECKS]
    assert {c.get("classname") for c in cases} == {"rtcsim.smoke"}
    assert cases[0].find("failure") is None


def test_a_failed_check_is_a_failure_with_what_was_expected_and_what_was_found(
    tmp_path: Path,
) -> None:
    cases = junit_xml(outcome(tmp_path, CHECKS)).getroot().findall("testsuite/testcase")
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "expected 3, found 2"
    assert failure.get("type") == "CheckFailed"
    assert "detail:   one join was never reported" in (failure.text or "")
    lists = cases[2].find("failure")
    assert lists is not None
    assert lists.get("message") == 'expected ["198.18.0.1"], found ["10.0.0.7"]'


def test_the_run_id_and_its_sessions_are_suite_properties(tmp_path: Path) -> None:
    suite = junit_xml(outcome(tmp_path, CHECKS)).getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["run_id"] == "20261128-162556-32da"
    assert properties["session.smoke"] == "smoke-20261128-162556-32da"
    assert properties["documents"] == "14"


def test_junit_xml_is_written_beside_the_summary_and_parses_back(tmp_path: Path) -> None:
    path = write_junit(outcome(tmp_path, CHECKS))
    assert path == tmp_path / JUNIT_FILE
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert ET.parse(path).getroot().tag == "testsuites"


def test_control_characters_in_a_check_do_not_make_the_file_unreadable(tmp_path: Path) -> None:
    check = Check("odd\x07name", False, "a\x00b", "c")
    path = write_junit(outcome(tmp_path, [check]))
    case = ET.parse(path).getroot().find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "odd\N{REPLACEMENT CHARACTER}name"


def test_a_run_without_checks_is_an_empty_passing_suite(tmp_path: Path) -> None:
    suite = junit_xml(outcome(tmp_path, [])).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("0", "0")
