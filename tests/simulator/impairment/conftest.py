"""Network namespaces of the impairment tests' own; never the team's ``rtcsim-*`` ones.

Each fixture removes what it made, even when the test fails, and first removes leftovers of
an earlier run that was killed before its teardown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from simulator.settings import Settings

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="network namespaces need root"
)


def sh(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed: {done.stderr.strip()}")


def remove_netns(name: str) -> None:
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def add_netns(name: str) -> None:
    remove_netns(name)
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")
    sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")


@pytest.fixture
def one_netns() -> Iterator[str]:
    """``rtcsimtest-imp``: one namespace with a veth pair, both peers on 198.18.9.1."""
    name = "rtcsimtest-imp"
    try:
        add_netns(name)
        sh("ip", "-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        sh("ip", "-n", name, "addr", "add", "198.18.9.1/24", "dev", "va")
        sh("ip", "-n", name, "link", "set", "va", "up")
        sh("ip", "-n", name, "link", "set", "vb", "up")
        yield name
    finally:
        remove_netns(name)


@pytest.fixture
def netns_pair() -> Iterator[Settings]:
    """``rtcsimtest-ka`` (as the SFU, 198.18.8.1) and ``rtcsimtest-kb`` (as the clients,
    198.18.8.2) joined by a veth, described by a ``Settings`` the kernel impairer takes."""
    sfu, client = "rtcsimtest-ka", "rtcsimtest-kb"
    try:
        add_netns(sfu)
        add_netns(client)
        sh("ip", "-n", sfu, "link", "add", "ka0", "type", "veth", "peer", "name", "kb0",
           "netns", client)  # fmt: skip
        sh("ip", "-n", sfu, "addr", "add", "198.18.8.1/24", "dev", "ka0")
        sh("ip", "-n", client, "addr", "add", "198.18.8.2/24", "dev", "kb0")
        sh("ip", "-n", sfu, "link", "set", "ka0", "up")
        sh("ip", "-n", client, "link", "set", "kb0", "up")
        yield Settings(
            sfu_netns=sfu,
            client_netns=client,
            sfu_veth="ka0",
            client_veth="kb0",
            sfu_address="198.18.8.1",
            client_address="198.18.8.2",
        )
    finally:
        remove_netns(client)
        remove_netns(sfu)
