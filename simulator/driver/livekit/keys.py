"""The API key pair of one rtcsim stack's LiveKit: made once, kept in the state dir.

LiveKit trusts the pairs in its ``keys:`` configuration; tokens signed with the secret admit
participants and API callers, and LiveKit signs its webhooks with it. rtcsim makes one pair per
state dir, on LiveKit's first start, and keeps it in ``<state_dir>/livekit/keys.json`` (owner
only), where the service writes it into the configuration, the driver signs tokens with it and
the collector verifies webhooks with it.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

KEY_ALPHABET = string.ascii_letters + string.digits


class KeysFileError(ValueError):
    """The key file exists but cannot be read as a key pair."""


@dataclass(frozen=True)
class LiveKitCredentials:
    """An API key and its secret."""

    api_key: str
    api_secret: str

    @classmethod
    def generate(cls) -> LiveKitCredentials:
        # Shaped like LiveKit's own `generate-keys`: "API" + 12 characters, a 43-character
        # secret (LiveKit warns about secrets shorter than 32).
        key = "API" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(12))
        return cls(key, secrets.token_urlsafe(32))


def credentials_path(state_dir: Path) -> Path:
    return state_dir / "livekit" / "keys.json"


def load_credentials(state_dir: Path) -> LiveKitCredentials | None:
    """The pair kept for this state dir, or None before LiveKit was first configured."""
    path = credentials_path(state_dir)
    try:
        data = json.loads(path.read_text())
        return LiveKitCredentials(str(data["api_key"]), str(data["api_secret"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeysFileError(f"{path} holds no readable api_key/api_secret: {exc}") from exc


def ensure_credentials(state_dir: Path) -> LiveKitCredentials:
    """The pair of this state dir, made and stored (owner-only) on first use."""
    existing = load_credentials(state_dir)
    if existing is not None:
        return existing
    made = LiveKitCredentials.generate()
    path = credentials_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"api_key": made.api_key, "api_secret": made.api_secret}, out)
    partial.replace(path)
    return made
