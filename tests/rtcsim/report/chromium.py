"""Debian's headless Chromium for the report tests: one way to start it, with a throwaway
profile, so every test sees the page the same way (no network of its own, no first-run work)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def run(flags: Sequence[str], *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium with ``flags`` and ``args`` in a profile of its own (removed afterwards)."""
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(binary).exists():
        pytest.fail("no chromium: apt-get install -y chromium (make setup installs it)")
    with tempfile.TemporaryDirectory(prefix="rtcsim-chromium-") as profile:
        return subprocess.run(
            [binary, *flags, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
