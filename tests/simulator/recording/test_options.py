"""Recording options, ids and OpenVidu's fields."""

from __future__ import annotations

import pytest

from simulator.recording.options import (
    OutputMode,
    RecordingOptions,
    parse_resolution,
    recording_id,
)
from simulator.scenario.model import StartRecordingStep


def test_recording_ids_are_openvidus_session_id_then_numbered() -> None:
    assert [recording_id("ses_A", n) for n in range(3)] == ["ses_A", "ses_A-1", "ses_A-2"]


def test_defaults_are_openvidus() -> None:
    options = RecordingOptions()
    assert (options.output_mode, options.resolution, options.frame_rate) == (
        OutputMode.COMPOSED,
        "1280x720",
        25,
    )
    assert options.has_audio
    assert options.has_video
    assert options.recording_layout == "BEST_FIT"


def test_composed_with_video_reports_resolution_frame_rate_and_layout() -> None:
    fields = RecordingOptions(name="r", resolution="960x540", frame_rate=15).fields()
    assert fields == {
        "name": "r",
        "outputMode": "COMPOSED",
        "hasAudio": True,
        "hasVideo": True,
        "resolution": "960x540",
        "frameRate": 15,
        "recordingLayout": "BEST_FIT",
    }


@pytest.mark.parametrize(
    "options",
    [RecordingOptions(output_mode=OutputMode.INDIVIDUAL), RecordingOptions(has_video=False)],
)
def test_individual_and_audio_only_recordings_have_no_resolution(options: RecordingOptions) -> None:
    assert not {"resolution", "frameRate", "recordingLayout"} & set(options.fields())


def test_a_recording_needs_audio_or_video() -> None:
    with pytest.raises(ValueError, match="audio, video or both"):
        RecordingOptions(has_audio=False, has_video=False)


@pytest.mark.parametrize("text", ["1280", "x720", "1281x720", "axb"])
def test_bad_resolutions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="resolution"):
        parse_resolution(text)


def test_options_from_a_scenario_step() -> None:
    step = StartRecordingStep.model_validate(
        {
            "at": 1.0,
            "do": "start_recording",
            "room": "r",
            "name": "n",
            "output_mode": "INDIVIDUAL",
            "has_video": False,
        }
    )
    options = RecordingOptions.from_step(step)
    assert (options.name, options.output_mode, options.has_video) == (
        "n",
        OutputMode.INDIVIDUAL,
        False,
    )
