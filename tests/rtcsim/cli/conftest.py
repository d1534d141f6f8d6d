"""The recording commands are tested on the synthetic media of the recording tests."""

from tests.simulator.recording.conftest import media_dir

__all__ = ["media_dir"]
