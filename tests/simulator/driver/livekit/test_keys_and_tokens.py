"""The stack's key pair and the access tokens signed with it."""

import stat
from pathlib import Path

import pytest
from livekit.api import TokenVerifier

from simulator.driver.livekit.keys import (
    KeysFileError,
    credentials_path,
    ensure_credentials,
    load_credentials,
)
from simulator.driver.livekit.tokens import participant_token


def test_the_key_pair_is_made_once_and_kept_readable_by_its_owner_only(tmp_path: Path) -> None:
    assert load_credentials(tmp_path) is None
    made = ensure_credentials(tmp_path)
    assert made.api_key.startswith("API")
    assert len(made.api_secret) >= 32
    mode = stat.S_IMODE(credentials_path(tmp_path).stat().st_mode)
    assert mode == 0o600
    assert ensure_credentials(tmp_path) == made
    assert load_credentials(tmp_path) == made


def test_an_unreadable_key_file_is_an_error_that_names_it(tmp_path: Path) -> None:
    path = credentials_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"api_key": 1}')
    with pytest.raises(KeysFileError, match=str(path)):
        load_credentials(tmp_path)


def test_a_participant_token_admits_its_identity_to_its_room_only(tmp_path: Path) -> None:
    keys = ensure_credentials(tmp_path)
    token = participant_token(
        keys, room="room-1", identity="alice", name="Alice", metadata='{"a": 1}'
    )
    claims = TokenVerifier(keys.api_key, keys.api_secret).verify(token)
    assert claims.identity == "alice"
    assert claims.name == "Alice"
    assert claims.metadata == '{"a": 1}'
    assert claims.video is not None
    assert claims.video.room == "room-1"
    assert claims.video.room_join is True
    assert not claims.video.room_admin


def test_a_token_signed_with_another_secret_does_not_verify(tmp_path: Path) -> None:
    keys = ensure_credentials(tmp_path / "a")
    other = ensure_credentials(tmp_path / "b")
    token = participant_token(keys, room="r", identity="alice")
    with pytest.raises(Exception, match="Signature"):
        TokenVerifier(keys.api_key, other.api_secret).verify(token)
