from __future__ import annotations

from pathlib import Path

import pytest

from rtcsim.services import jcfg


def test_groups_arrays_lists_and_scalars_are_parsed() -> None:
    text = """
    # a comment
    general: {
        name = "janus"   // trailing comment
        level = 4; ratio = 0.5, hex = 0x1F
        on = true
        off = FALSE
        /* block
           comment */
        folders = [ "/etc", "/var" ]
        mixed = ( 1, "two", { three = 3 } )
        joined = "a" "b"
        escaped = "say \\"hi\\"\\n"
    }
    empty: { }
    """
    assert jcfg.loads(text) == {
        "general": {
            "name": "janus",
            "level": 4,
            "ratio": 0.5,
            "hex": 31,
            "on": True,
            "off": False,
            "folders": ["/etc", "/var"],
            "mixed": (1, "two", {"three": 3}),
            "joined": "ab",
            "escaped": 'say "hi"\n',
        },
        "empty": {},
    }


def test_a_hash_inside_a_string_is_not_a_comment() -> None:
    assert jcfg.loads('g: { s = "a#b" }') == {"g": {"s": "a#b"}}


def test_rendered_text_parses_back_to_the_same_values() -> None:
    config: jcfg.Group = {
        "general": {"s": 'q"uo\\te', "i": -3, "f": 2.0, "b": True, "a": ["x", "y"], "l": (1, 2)},
        "nested": {"inner": {"k": "v"}, "empty_array": []},
    }
    assert jcfg.loads(jcfg.dumps(config, header="two\nlines")) == config


def test_invalid_text_names_the_line() -> None:
    with pytest.raises(jcfg.JcfgSyntaxError, match="line 2"):
        jcfg.loads("g: {\n  k = /bare/path\n}")


@pytest.mark.skipif(not Path("/etc/janus/janus.jcfg").exists(), reason="janus not installed")
def test_every_file_janus_loads_from_debian_round_trips() -> None:
    for name in (
        "janus.jcfg",
        "janus.transport.http.jcfg",
        "janus.plugin.videoroom.jcfg",
        "janus.eventhandler.sampleevh.jcfg",
    ):
        parsed = jcfg.load(Path("/etc/janus") / name)
        assert jcfg.loads(jcfg.dumps(parsed)) == parsed
