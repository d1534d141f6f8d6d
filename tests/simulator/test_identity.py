import re

from simulator.identity import connection_id, make_identity, stream_id


def test_same_seed_and_name_make_the_same_person() -> None:
    assert make_identity(7, "alice") == make_identity(7, "alice")


def test_other_seed_or_name_make_someone_else() -> None:
    assert make_identity(7, "alice").user_id != make_identity(8, "alice").user_id
    assert make_identity(7, "alice").user_id != make_identity(7, "bob").user_id


def test_identity_fields_have_openvidu_shapes() -> None:
    person = make_identity(1, "bob")
    assert re.fullmatch(r"[0-9A-F]{16}", person.user_id)
    lat, lon = (float(x) for x in person.geo_points.split(","))
    assert -90 <= lat <= 90
    assert -180 <= lon <= 180
    assert ", " in person.location
    assert " on " in person.platform


def test_connection_ids_are_sixteen_lowercase_characters_and_differ_per_run() -> None:
    first = connection_id("run-a", "alice")
    assert re.fullmatch(r"[a-z0-9]{16}", first)
    assert first == connection_id("run-a", "alice")
    assert first != connection_id("run-b", "alice")


def test_stream_id_follows_openvidu_format() -> None:
    assert re.fullmatch(r"abc_CAMERA_[A-Z]{5}", stream_id("abc", "CAMERA", 0))
    assert stream_id("abc", "CAMERA", 0) != stream_id("abc", "CAMERA", 1)
