"""``listening_socket`` inside a namespace this test creates and deletes (root only)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from collector.netns import entered_netns, listening_socket

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"
)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"rtcsimtest-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def test_a_socket_made_in_the_namespace_listens_there_only(netns: str) -> None:
    server = listening_socket("127.0.0.1", 0, netns)
    port = server.getsockname()[1]
    try:
        with entered_netns(netns), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", port), timeout=2),
        ):
            pass
    finally:
        server.close()
