"""Network-namespace primitives, the one place for them: which namespaces exist, running a
command in one, and entering one from the current thread.

Janus refuses loopback for ICE, so the media server lives in a network namespace of the
project's own (see ``docs/architecture.md``). A socket belongs to the namespace of the thread that
created it, for its whole life. So a process in the root namespace can still *listen* inside the
media server's namespace (the collector's event endpoint) or *connect* from inside a client
namespace (the simulator's peers), by switching one thread for the moment the socket is made.

``setns(2)`` only changes the calling thread, and needs CAP_SYS_ADMIN (root). The collector sits
at the bottom of the project, so the library (``simulator.netns_loop.NamespaceLoop``, the
impairment commands) and the services (``rtcsim.services.netns``, which creates and wires the
namespaces with iproute2) use these.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import socket
from collections.abc import Iterator
from pathlib import Path

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = Path("/var/run/netns")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class NetnsError(RuntimeError):
    """A namespace is missing or cannot be entered."""


def netns_path(name: str) -> Path:
    """Where ``ip netns add NAME`` pins the namespace."""
    return NETNS_RUN_DIR / name


def namespace_exists(name: str) -> bool:
    """Whether ``ip netns add name`` has been done (and not undone)."""
    return netns_path(name).exists()


def exec_in(netns: str, *argv: str) -> list[str]:
    """``argv`` run inside ``netns`` (``ip netns exec`` execs it: the pid is the command's)."""
    return ["ip", "netns", "exec", netns, *argv]


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"setns failed: {os.strerror(err)} (needs root)")


def enter_netns_forever(name: str) -> None:
    """Move the calling thread into namespace ``name`` for the rest of its life."""
    path = netns_path(name)
    if not namespace_exists(name):
        raise NetnsError(f"network namespace {name!r} does not exist ({path}); start the services")
    fd = os.open(path, os.O_RDONLY)
    try:
        _setns(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def entered_netns(name: str | None) -> Iterator[None]:
    """Run the body with the calling thread inside namespace ``name`` (``None``: stay put)."""
    if name is None:
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        enter_netns_forever(name)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def listening_socket(host: str, port: int, netns: str | None = None) -> socket.socket:
    """A TCP listening socket bound to ``host:port`` inside ``netns`` (or here when ``None``).

    Raises ``OSError`` with a readable message when the port is taken.
    """
    with entered_netns(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            where = f" in namespace {netns}" if netns else ""
            raise OSError(
                exc.errno, f"cannot listen on {host}:{port}{where}: {exc.strerror}"
            ) from exc
        sock.listen(512)
        sock.setblocking(False)
        return sock
