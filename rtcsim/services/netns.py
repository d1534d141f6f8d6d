"""The two network namespaces: Janus in one, the simulator's peers in the other.

Janus 1.1.2 skips every loopback interface when it gathers ICE candidates, and aioice drops
127.0.0.1 too (see ``reference/janus-aiortc.md`` §1), so media needs a real link. A veth pair
between two namespaces gives one, with addresses from 198.18.0.0/15 (RFC 2544 benchmarking
space) that never leave the machine: no default route, IPv6 off so no other candidates appear.

Everything here shells out to ``ip`` (iproute2), which is what an operator would type to check
or repair the same state by hand; the namespace primitives underneath are ``collector.netns``'s.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from collector.netns import exec_in, namespace_exists
from rtcsim.services.errors import CommandError, NamespaceError
from rtcsim.services.process import run
from simulator.settings import Settings

IFNAMSIZ = 15  # Linux interface names are at most 15 characters (IFNAMSIZ - 1)
BENCHMARK_NET = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544


@dataclass(frozen=True)
class NamespacePair:
    """Names and addresses of the SFU namespace, the client namespace and the veth between them."""

    sfu_netns: str
    client_netns: str
    sfu_veth: str
    client_veth: str
    sfu_address: str
    client_address: str
    prefix_len: int

    @classmethod
    def from_settings(cls, settings: Settings) -> NamespacePair:
        return cls(
            sfu_netns=settings.sfu_netns,
            client_netns=settings.client_netns,
            sfu_veth=settings.sfu_veth,
            client_veth=settings.client_veth,
            sfu_address=settings.sfu_address,
            client_address=settings.client_address,
            prefix_len=settings.netns_prefix_len,
        )

    def ends(self) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        """``(netns, veth, address)`` for the SFU end and the client end."""
        return (
            (self.sfu_netns, self.sfu_veth, self.sfu_address),
            (self.client_netns, self.client_veth, self.client_address),
        )

    def validate(self) -> None:
        """Reject names the kernel would refuse and addresses that could leave the machine."""
        for name in (self.sfu_veth, self.client_veth):
            if not name or len(name) > IFNAMSIZ or "/" in name or " " in name:
                raise NamespaceError(
                    f"interface name {name!r} is not valid",
                    hint=f"use at most {IFNAMSIZ} characters, no '/' or spaces",
                )
        if self.sfu_veth == self.client_veth or self.sfu_netns == self.client_netns:
            raise NamespaceError("the SFU and client namespaces (and veths) need different names")
        for address in (self.sfu_address, self.client_address):
            try:
                ip = ipaddress.ip_address(address)
            except ValueError as exc:
                raise NamespaceError(f"{address!r} is not an IP address") from exc
            if ip not in BENCHMARK_NET:
                raise NamespaceError(
                    f"address {address} is outside {BENCHMARK_NET}",
                    hint="the namespaces only use RFC 2544 addresses, so nothing can leave the box",
                )
        sfu_net = ipaddress.ip_interface(f"{self.sfu_address}/{self.prefix_len}").network
        if ipaddress.ip_address(self.client_address) not in sfu_net:
            raise NamespaceError(
                f"{self.sfu_address} and {self.client_address} are not in one /{self.prefix_len}"
            )


def _ip(*args: str) -> str:
    return run(["ip", *args], hint="install iproute2 and run as root (network namespaces)")


def _links(netns: str | None) -> list[dict[str, Any]]:
    where = ["-n", netns] if netns else []
    out = _ip(*where, "-j", "-d", "addr", "show")
    parsed: list[dict[str, Any]] = json.loads(out or "[]")
    return parsed


def exists(settings: Settings) -> bool:
    """Whether both namespaces exist (not whether they are wired correctly: see ``is_ready``)."""
    pair = NamespacePair.from_settings(settings)
    return namespace_exists(pair.sfu_netns) and namespace_exists(pair.client_netns)


def _find(links: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((link for link in links if link.get("ifname") == name), None)


def _has_address(link: dict[str, Any], address: str, prefix_len: int) -> bool:
    return any(
        a.get("family") == "inet" and a.get("local") == address and a.get("prefixlen") == prefix_len
        for a in link.get("addr_info", [])
    )


def problems(settings: Settings) -> list[str]:
    """What is missing or wrong in the namespaces, in words; empty when ready to use."""
    pair = NamespacePair.from_settings(settings)
    found: list[str] = []
    ifindex: dict[str, int] = {}
    peer_index: dict[str, int | None] = {}
    for netns, veth, address in pair.ends():
        if not namespace_exists(netns):
            found.append(f"namespace {netns} does not exist")
            continue
        links = _links(netns)
        lo = _find(links, "lo")
        if lo is None or "UP" not in lo.get("flags", []):
            found.append(f"lo is down in {netns}")
        link = _find(links, veth)
        if link is None:
            found.append(f"{veth} is missing from {netns}")
            continue
        if link.get("linkinfo", {}).get("info_kind") != "veth":
            found.append(f"{veth} in {netns} is not a veth")
        if "UP" not in link.get("flags", []):
            found.append(f"{veth} in {netns} is down")
        if not _has_address(link, address, pair.prefix_len):
            found.append(f"{veth} in {netns} lacks {address}/{pair.prefix_len}")
        ifindex[veth] = int(link["ifindex"])
        peer_index[veth] = link.get("link_index")
    if not found and (
        peer_index[pair.sfu_veth] != ifindex[pair.client_veth]
        or peer_index[pair.client_veth] != ifindex[pair.sfu_veth]
    ):
        found.append(f"{pair.sfu_veth} and {pair.client_veth} are not the two ends of one veth")
    if not found:
        for netns, _, _ in pair.ends():
            if _ipv6_enabled(netns):
                found.append(f"IPv6 is enabled in {netns}")
    return found


def is_ready(settings: Settings) -> bool:
    return not problems(settings)


def _ipv6_enabled(netns: str) -> bool:
    out = run(exec_in(netns, "sysctl", "-n", "net.ipv6.conf.all.disable_ipv6"))
    return out.strip() != "1"


def _delete_veth(netns: str | None, name: str) -> None:
    """Delete link ``name`` in ``netns`` if it is there (deleting one veth end drops both)."""
    links = _links(netns)
    if _find(links, name) is None:
        return
    where = ["-n", netns] if netns else []
    _ip(*where, "link", "del", "dev", name)


def _root_veth(name: str) -> bool:
    link = _find(_links(None), name)
    return link is not None and link.get("linkinfo", {}).get("info_kind") == "veth"


def ensure(settings: Settings) -> NamespacePair:
    """Create the namespaces and the veth pair, or repair what an earlier run left half-done.

    Idempotent: when everything is already right this changes nothing, so running Janus or
    peers inside the namespaces keep working.
    """
    pair = NamespacePair.from_settings(settings)
    pair.validate()
    try:
        if not problems(settings):
            return pair
        for netns, _, _ in pair.ends():
            if not namespace_exists(netns):
                _ip("netns", "add", netns)
            # all= turns IPv6 off on existing links, default= on the ones added later.
            for key in ("all", "default"):
                run(exec_in(netns, "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"))
            _ip("-n", netns, "link", "set", "lo", "up")
        wiring = [p for p in problems(settings) if not p.startswith("lo is down")]
        if wiring:
            # Start the pair from scratch: a lone end, a wrong peer or a leftover in the root
            # namespace (a run killed between "add" and "set netns") cannot be patched reliably.
            for netns, veth, _ in pair.ends():
                _delete_veth(netns, veth)
                if _root_veth(veth):
                    _ip("link", "del", "dev", veth)
            # Both ends are created directly inside their namespaces: no name ever appears in
            # the root namespace, where it could clash with the host's interfaces.
            _ip(
                "link", "add", pair.sfu_veth, "netns", pair.sfu_netns, "type", "veth",
                "peer", "name", pair.client_veth, "netns", pair.client_netns,
            )  # fmt: skip
            for netns, veth, address in pair.ends():
                _ip("-n", netns, "addr", "replace", f"{address}/{pair.prefix_len}", "dev", veth)
                _ip("-n", netns, "link", "set", veth, "up")
    except CommandError as exc:
        raise NamespaceError(
            f"could not set up namespaces {pair.sfu_netns} and {pair.client_netns}",
            details=str(exc),
            hint="network namespaces need root and iproute2",
        ) from exc
    left = problems(settings)
    if left:
        raise NamespaceError("namespaces are still not right: " + "; ".join(left))
    return pair


def remove(settings: Settings) -> list[str]:
    """Delete both namespaces (which deletes the veth pair); return the ones that existed.

    A namespace whose name is gone but which still holds a process lives on until that process
    exits, so stop Janus and the peers first.
    """
    pair = NamespacePair.from_settings(settings)
    removed: list[str] = []
    try:
        for netns, veth, _ in pair.ends():
            if namespace_exists(netns):
                _ip("netns", "del", netns)
                removed.append(netns)
            if _root_veth(veth):
                _ip("link", "del", "dev", veth)
    except CommandError as exc:
        raise NamespaceError("could not remove the namespaces", details=str(exc)) from exc
    return removed
