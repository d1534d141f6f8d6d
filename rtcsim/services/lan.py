"""Separate "machines" on one box: a namespace each, on a LAN that reaches Janus, for runs whose
locust master and workers must not share anything but a network (issue 16's scale-out test).

The LAN is a bridge inside the client namespace, which routes between it and the veth pair to
Janus, as a router between a test network and the media server's would: each machine's namespace
has one end of a veth pair, the other end enslaved to the bridge, and an address of the LAN's
/24. Machines reach each other on the bridge (the master's locust port) and Janus's address
(``sfu_address``) through the bridge's address; the client namespace forwards (``ip_forward``,
on while the LAN exists) and the SFU namespace routes the LAN back through ``client_address``.
Janus keeps gathering ICE candidates on ``sfu_veth`` only (``ice_enforce_list``), so its one
candidate is ``sfu_address``. Measured: with the bridge in the SFU namespace instead (Janus's
address delivered locally from another interface), Janus answered no STUN check arriving on the
bridge and every ICE failed; routed to arrive on ``sfu_veth``, as the client's do, all pass.
Nothing gets a default route.

Names and addresses come from the settings: the prefix the SFU and client namespaces share
(``rtcsim-`` by default, a slot's own otherwise) and, for the LAN, the SFU address's /24 moved
up by 100 in its third octet (198.18.0.1 -> 198.18.100.0/24), inside 198.18.0.0/15 like the
namespace pair's. Like ``rtcsim.services.netns`` this shells out to ``ip``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from dataclasses import dataclass

from collector.netns import exec_in, listening_socket, namespace_exists
from rtcsim.services.errors import CommandError, NamespaceError
from rtcsim.services.netns import BENCHMARK_NET, IFNAMSIZ
from rtcsim.services.process import run
from simulator.settings import Settings

LAN_OCTET_SHIFT = 100
FIRST_HOST = 10
"""Machine ``n`` gets host number ``FIRST_HOST + n`` on the LAN (the bridge has 1)."""


def _shared_prefix(a: str, b: str) -> str:
    """The leading characters two names share (``h4-sfu``, ``h4-cli``: ``h4-``)."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _ip(*args: str) -> str:
    return run(["ip", *args], hint="install iproute2 and run as root (network namespaces)")


@dataclass(frozen=True)
class Machine:
    """One "machine": its namespace, its veth end there and the end on the bridge, its address."""

    netns: str
    veth: str
    bridge_port: str
    address: str


@dataclass(frozen=True)
class Lan:
    """The bridge in the SFU namespace and the machines on it."""

    hub_netns: str
    """The client namespace: the bridge lives here and it forwards."""
    sfu_netns: str
    bridge: str
    bridge_address: str
    sfu_address: str
    client_address: str
    machines: tuple[Machine, ...]
    prefix_len: int = 24

    @property
    def network(self) -> str:
        return str(ipaddress.ip_interface(f"{self.bridge_address}/{self.prefix_len}").network)

    @classmethod
    def from_settings(cls, settings: Settings, count: int) -> Lan:
        prefix = _shared_prefix(settings.sfu_netns, settings.client_netns) or "rtcsim-"
        sfu = ipaddress.ip_address(settings.sfu_address)
        octets = str(sfu).split(".")
        third = int(octets[2]) + LAN_OCTET_SHIFT
        if third > 255:
            raise NamespaceError(f"no LAN beside {sfu}: its third octet + {LAN_OCTET_SHIFT} > 255")
        net = ipaddress.ip_network(f"{octets[0]}.{octets[1]}.{third}.0/24")
        if not net.subnet_of(BENCHMARK_NET):  # type: ignore[arg-type]
            raise NamespaceError(f"the LAN {net} would lie outside {BENCHMARK_NET}")
        machines = tuple(
            Machine(
                netns=f"{prefix}m{n}",
                veth=f"{prefix}m{n}",
                bridge_port=f"{prefix}m{n}b",
                address=str(net.network_address + FIRST_HOST + n),
            )
            for n in range(count)
        )
        lan = cls(
            hub_netns=settings.client_netns,
            sfu_netns=settings.sfu_netns,
            bridge=f"{prefix}lan",
            bridge_address=str(net.network_address + 1),
            sfu_address=str(sfu),
            client_address=settings.client_address,
            machines=machines,
        )
        lan.validate()
        return lan

    def validate(self) -> None:
        names = [self.bridge, *(n for m in self.machines for n in (m.veth, m.bridge_port))]
        for name in names:
            if len(name) > IFNAMSIZ:
                raise NamespaceError(f"interface name {name!r} is longer than {IFNAMSIZ}")

    def ensure(self) -> None:
        """Create the bridge and every machine; call :meth:`remove` after, also on failure."""
        for netns in (self.hub_netns, self.sfu_netns):
            if not namespace_exists(netns):
                raise NamespaceError(f"namespace {netns} does not exist: services up first")
        cidr = f"/{self.prefix_len}"
        try:
            hub = ["-n", self.hub_netns]
            _ip(*hub, "link", "add", self.bridge, "type", "bridge")
            _ip(*hub, "addr", "add", self.bridge_address + cidr, "dev", self.bridge)
            _ip(*hub, "link", "set", self.bridge, "up")
            run(exec_in(self.hub_netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
            _ip("-n", self.sfu_netns, "route", "replace", self.network, "via", self.client_address)
            for m in self.machines:
                _ip("netns", "add", m.netns)
                for key in ("all", "default"):
                    run(exec_in(m.netns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"))
                _ip("-n", m.netns, "link", "set", "lo", "up")
                _ip(
                    "link", "add", m.veth, "netns", m.netns, "type", "veth",
                    "peer", "name", m.bridge_port, "netns", self.hub_netns,
                )  # fmt: skip
                _ip(*hub, "link", "set", m.bridge_port, "master", self.bridge, "up")
                _ip("-n", m.netns, "addr", "add", m.address + cidr, "dev", m.veth)
                _ip("-n", m.netns, "link", "set", m.veth, "up")
                # Janus's address is the SFU namespace's: reached through the bridge's.
                _ip("-n", m.netns, "route", "add", f"{self.sfu_address}/32", "via",
                    self.bridge_address)  # fmt: skip
        except CommandError as exc:
            raise NamespaceError("could not build the machines' LAN", details=str(exc)) from exc

    def remove(self) -> list[str]:
        """Delete every machine namespace (their veths go with them) and the bridge; what
        existed. Safe to call on a LAN half built."""
        removed: list[str] = []
        for m in self.machines:
            if namespace_exists(m.netns):
                with contextlib.suppress(CommandError):
                    _ip("netns", "del", m.netns)
                    removed.append(m.netns)
        if namespace_exists(self.sfu_netns):
            with contextlib.suppress(CommandError):
                _ip("-n", self.sfu_netns, "route", "del", self.network)
        if namespace_exists(self.hub_netns):
            with contextlib.suppress(CommandError):
                run(exec_in(self.hub_netns, "sysctl", "-qw", "net.ipv4.ip_forward=0"))
            with contextlib.suppress(CommandError):
                _ip("-n", self.hub_netns, "link", "del", "dev", self.bridge)
                removed.append(self.bridge)
        return removed


class Relay:
    """A TCP relay from a listening address inside a namespace to one in the root namespace:
    the collector's API (127.0.0.1 in the root namespace) published on the LAN, as a collector
    on a machine of its own would listen on its address. The listening socket is made inside
    ``netns`` (``collector.netns.listening_socket``); the relay's thread stays in the root
    namespace, so its outgoing connections are made there."""

    def __init__(self, netns: str, host: str, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self._sock = listening_socket(host, port, netns)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtcsim-relay", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, sock=self._sock)
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.close()
