import copy

from simulator.verify.schema import schema_problems, seed_examples
from simulator.verify.schema_checks import schema_checks


def test_the_seed_examples_themselves_conform() -> None:
    for elastic_type, example in seed_examples().items():
        assert schema_problems(elastic_type, example) == [], elastic_type


def test_a_missing_key_and_a_wrong_type_are_both_reported() -> None:
    doc = copy.deepcopy(seed_examples()["publisherSummary"])
    del doc["streamId"]
    doc["duration"] = "80"
    problems = schema_problems("publisherSummary", doc)
    assert "missing streamId" in problems
    assert "duration is string, OpenVidu has number" in problems


def test_extra_fields_are_allowed() -> None:
    doc = {**seed_examples()["cdr"], "rtcsim_run_id": "r1", "uniqueSessionId": "x_1"}
    assert schema_problems("cdr", doc) == []


def test_a_required_type_that_is_absent_fails() -> None:
    checks = schema_checks([seed_examples()["cdr"]], required={"cdr", "kms"})
    failed = [c.name for c in checks if not c.ok]
    assert failed == ["kms documents present"]


def test_only_the_seed_variant_of_a_type_is_compared() -> None:
    joined = {"elastic_type": "cdr", "event": "participantJoined", "timestamp": 1}
    checks = schema_checks([seed_examples()["cdr"], joined], required={"cdr"})
    assert all(c.ok for c in checks)


def test_an_unmeasured_counter_may_be_absent_but_not_mistyped() -> None:
    doc = copy.deepcopy(seed_examples()["webrtcStats"])
    del doc["pliCount"]
    assert schema_problems("webrtcStats", doc) == []
    doc["firCount"] = "0"
    assert schema_problems("webrtcStats", doc) == ["firCount is string, OpenVidu has number"]
    del doc["nackCount"]
    assert "missing nackCount" in schema_problems("webrtcStats", doc)


def test_the_webrtc_stats_check_says_which_keys_are_unmeasured() -> None:
    doc = {**seed_examples()["webrtcStats"], "rtcsim_side": "server"}
    [check] = [c for c in schema_checks([doc], required=set()) if "webrtcStats" in c.name]
    assert check.ok
    assert "firCount, pliCount, sliCount unmeasured" in str(check.found)
