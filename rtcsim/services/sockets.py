"""Which addresses a process listens on, read from ``/proc``, in the process's own namespace.

``/proc/<pid>/net/*`` shows the socket tables of the namespace ``<pid>`` lives in, whereas psutil
reads our own, so it sees nothing of Janus inside the SFU namespace. Matching the table rows
against the process's socket inodes tells *whose* socket a port is: a health check answered by
some other process on the same address must not pass for ours.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path

TCP_LISTEN = "0A"  # include/net/tcp_states.h


def _address(text: str) -> tuple[str, int]:
    """``0100007F:1F90`` (or the 32-digit IPv6 form) as ``("127.0.0.1", 8080)``."""
    hex_ip, hex_port = text.split(":")
    raw = bytes.fromhex(hex_ip)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.ip_address(words)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip), int(hex_port, 16)


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def listening(pid: int) -> set[tuple[str, str, int]]:
    """``(protocol, address, port)`` for each TCP listener and unconnected UDP socket of ``pid``."""
    inodes = _socket_inodes(pid)
    found: set[tuple[str, str, int]] = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            unconnected_udp = table.startswith("udp") and set(remote) <= {"0", ":"}
            if inode in inodes and (state == TCP_LISTEN or unconnected_udp):
                address, port = _address(local)
                found.add((table.rstrip("6"), address, port))
    return found


def listens_on(pid: int, address: str, port: int) -> bool:
    """Whether ``pid`` itself holds a TCP listener on ``address:port``."""
    return ("tcp", address, port) in listening(pid)
