"""Impairment in the kernel, inside the project's network namespaces (root needed).

A peer is named by its local UDP port(s), as its SDP host candidates give them
(``host_candidate_ports``). What this kernel can do decides what is offered
(``reference/janus-aiortc.md`` §1):

* **loss**: nftables ``numgen random`` rules on the *receiver's* input hook: in the SFU
  namespace for UP (``ip saddr <client> udp sport <port>``), in the client namespace for DOWN
  (``udp dport <port>``). A drop on the sender's output hook would make ``sendto()`` fail with
  EPERM, which real loss never does. All rules live in one table of ours, ``inet
  rtcsim_impair`` (chain ``up`` in the SFU namespace, ``down`` in the client namespace), and
  carry the comment ``rtcsim port <port>`` so one peer's rules are replaced without touching
  another's.
* **rate**: ``tc`` on the egress of the sending veth (client veth for UP, SFU veth for DOWN).
  With htb: one class per port (``1:<port in hex>``) picked by a u32 ``ip sport``/``ip dport``
  filter whose preference is the port, with a byte FIFO holding ``queue_ms`` of data;
  unclassified traffic bypasses htb (``default 0``). Without htb: one tbf for the whole veth,
  which caps *every* peer in the namespace together (logged).
* **delay/jitter**: only with netem (a netem leaf under the port's htb class). This kernel
  has no netem, so ``apply`` raises ``ImpairmentUnsupported`` and the scenario should use
  ``depth: process``.

Commands are synchronous ``ip netns exec`` calls taking a few milliseconds each; from async
code call this through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from collector.netns import exec_in
from simulator.impairment.capabilities import (
    FAMILY,
    Capabilities,
    ImpairmentUnsupported,
    KernelImpairmentError,
    Runner,
    capabilities,
    kernel_refusal,
    run_command,
)
from simulator.impairment.model import NONE, Impairment
from simulator.settings import Settings

__all__ = [
    "Capabilities",
    "ImpairmentUnsupported",
    "KernelImpairer",
    "KernelImpairmentError",
    "capabilities",
    "host_candidate_ports",
]

log = logging.getLogger(__name__)

TABLE = "rtcsim_impair"
UP_CHAIN = "up"
DOWN_CHAIN = "down"
HTB_HANDLE = "1:"
UNLIMITED_KBIT = 10_000_000  # an htb class for delay only: 10 Gbit/s never binds on a veth
LOSS_SCALE = 10_000  # numgen modulus: loss in steps of 0.01 %
MIN_QUEUE_BYTES = 3_000


def host_candidate_ports(sdp: str) -> list[int]:
    """The local UDP ports of a peer: the ports of the ``typ host`` udp candidates of its SDP."""
    ports: list[int] = []
    for line in sdp.splitlines():
        parts = line.split()
        if (
            line.startswith("a=candidate:")
            and len(parts) > 7
            and parts[2].lower() == "udp"
            and parts[6:8] == ["typ", "host"]
        ):
            port = int(parts[5])
            if port not in ports:
                ports.append(port)
    return ports


# -- the impairer ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Side:
    """One direction: where its loss rule and its rate cap live."""

    chain: str
    loss_netns: str  # the receiver's namespace
    match: str  # nft match for the peer's packets, ``{port}`` filled in
    tc_netns: str  # the sender's namespace
    veth: str  # the sender's veth
    u32_field: str  # "sport" or "dport"


class KernelImpairer:
    """Kernel-level impairment of peers in ``settings``' SFU and client namespaces."""

    def __init__(
        self,
        settings: Settings,
        *,
        run: Runner = run_command,
        caps: Capabilities | None = None,
    ) -> None:
        self._run = run
        self._caps = caps
        self._up = _Side(
            UP_CHAIN,
            settings.sfu_netns,
            f"ip saddr {settings.client_address} udp sport {{port}}",
            settings.client_netns,
            settings.client_veth,
            "sport",
        )
        self._down = _Side(
            DOWN_CHAIN,
            settings.client_netns,
            f"ip saddr {settings.sfu_address} udp dport {{port}}",
            settings.sfu_netns,
            settings.sfu_veth,
            "dport",
        )
        self._warned_tbf = False

    @property
    def caps(self) -> Capabilities:
        if self._caps is None:
            self._caps = capabilities(self._run)
        return self._caps

    def apply(self, ports: Iterable[int], up: Impairment, down: Impairment) -> None:
        """Impair the peer on ``ports`` from now on, replacing what it had.

        Everything is checked before anything changes, so an unsupported request leaves the
        previous impairment in force.
        """
        ports = _checked_ports(ports)
        self._check(up, down)
        for side, impairment in ((self._up, up), (self._down, down)):
            self._set_loss(side, ports, impairment.loss_pct)
            self._set_shaping(side, ports, impairment)

    def clear(self, ports: Iterable[int]) -> None:
        """Give the peer on ``ports`` a perfect link again."""
        ports = _checked_ports(ports)
        for side in (self._up, self._down):
            self._set_loss(side, ports, 0.0)
            self._set_shaping(side, ports, NONE)

    def clear_all(self) -> None:
        """Remove our nft table and our root qdiscs from both namespaces. Idempotent."""
        for side in (self._up, self._down):
            self._quietly(exec_in(side.loss_netns, "nft", "delete", "table", FAMILY, TABLE))
            root = self._tc(side, f"qdisc show dev {side.veth} root", quiet=True)
            if f"htb {HTB_HANDLE}" in root or "tbf " in root:
                self._tc(side, f"qdisc del dev {side.veth} root", quiet=True)

    # -- checks ----------------------------------------------------------------------------
    def _check(self, up: Impairment, down: Impairment) -> None:
        both = (up, down)
        refusal = kernel_refusal(
            self.caps,
            delay=any(i.needs_delay for i in both),
            loss=any(i.loss_pct > 0 for i in both),
            rate=any(i.rate_kbps is not None for i in both),
        )
        if refusal is not None:
            raise ImpairmentUnsupported(refusal)

    # -- loss (nftables) -------------------------------------------------------------------
    def _set_loss(self, side: _Side, ports: list[int], loss_pct: float) -> None:
        if loss_pct <= 0 and not self._table_exists(side):
            return  # nothing of ours to remove: do not create a table just to leave it empty
        handles = self._rule_handles(side, ports)
        script = [
            f"add table {FAMILY} {TABLE}",
            f"add chain {FAMILY} {TABLE} {side.chain} "
            "{ type filter hook input priority 0; policy accept; }",
        ]
        script += [f"delete rule {FAMILY} {TABLE} {side.chain} handle {h}" for h in handles]
        threshold = round(loss_pct * LOSS_SCALE / 100)
        if threshold > 0:
            for port in ports:
                script.append(
                    f"add rule {FAMILY} {TABLE} {side.chain} {side.match.format(port=port)} "
                    f"numgen random mod {LOSS_SCALE} < {threshold} counter drop "
                    f'comment "{_comment(port)}"'
                )
        # One nft transaction: the old rule and the new one never coexist or both vanish.
        self._run(exec_in(side.loss_netns, "nft", "-f", "-"), "\n".join(script) + "\n")

    def _table_exists(self, side: _Side) -> bool:
        listing = self._quietly(exec_in(side.loss_netns, "nft", "list", "tables", FAMILY))
        return f"table {FAMILY} {TABLE}" in listing

    def _rule_handles(self, side: _Side, ports: list[int]) -> list[int]:
        listing = self._quietly(
            exec_in(side.loss_netns, "nft", "-j", "-a", "list", "chain", FAMILY, TABLE, side.chain)
        )
        if not listing:
            return []
        wanted = {_comment(p) for p in ports}
        handles = []
        for item in json.loads(listing).get("nftables", []):
            rule = item.get("rule")
            if rule and rule.get("comment") in wanted:
                handles.append(int(rule["handle"]))
        return handles

    def loss_rule_counters(self, port: int) -> dict[str, int]:
        """Packets the ``up``/``down`` loss rules of ``port`` have dropped so far."""
        dropped = {}
        for side in (self._up, self._down):
            listing = self._quietly(
                exec_in(side.loss_netns, "nft", "-j", "list", "chain", FAMILY, TABLE, side.chain)
            )
            for item in json.loads(listing).get("nftables", []) if listing else []:
                rule = item.get("rule")
                if rule and rule.get("comment") == _comment(port):
                    for expr in rule.get("expr", []):
                        if "counter" in expr:
                            dropped[side.chain] = int(expr["counter"]["packets"])
        return dropped

    # -- rate and delay (tc) ---------------------------------------------------------------
    def _set_shaping(self, side: _Side, ports: list[int], impairment: Impairment) -> None:
        shaped = impairment.rate_kbps is not None or impairment.needs_delay
        if not self.caps.htb:
            self._set_whole_veth_tbf(side, impairment)
            return
        dev = f"dev {side.veth}"
        if f"htb {HTB_HANDLE}" not in self._tc(side, f"qdisc show {dev} root", quiet=True):
            if not shaped:
                return
            self._tc(side, f"qdisc replace {dev} root handle {HTB_HANDLE} htb")
        for port in ports:
            classid = f"1:{port:x}"
            self._tc(side, f"filter del {dev} parent {HTB_HANDLE} pref {port}", quiet=True)
            self._tc(side, f"class del {dev} classid {classid}", quiet=True)
            if not shaped:
                continue
            kbit = impairment.rate_kbps if impairment.rate_kbps is not None else UNLIMITED_KBIT
            self._tc(
                side,
                f"class add {dev} parent {HTB_HANDLE} classid {classid} htb"
                f" rate {kbit:g}kbit ceil {kbit:g}kbit",
            )
            self._tc(side, f"qdisc add {dev} parent {classid} {_leaf(impairment)}")
            self._tc(
                side,
                f"filter add {dev} parent {HTB_HANDLE} protocol ip pref {port}"
                f" u32 match ip {side.u32_field} {port} 0xffff flowid {classid}",
            )

    def _set_whole_veth_tbf(self, side: _Side, impairment: Impairment) -> None:
        dev = f"dev {side.veth}"
        if impairment.rate_kbps is None:
            if "tbf " in self._tc(side, f"qdisc show {dev} root", quiet=True):
                self._tc(side, f"qdisc del {dev} root")
            return
        if not self._warned_tbf:
            log.warning(
                "htb is missing: the rate cap on %s applies to every peer of namespace %s",
                side.veth,
                side.tc_netns,
            )
            self._warned_tbf = True
        burst = _queue_bytes(impairment) // 4 + MIN_QUEUE_BYTES
        self._tc(
            side,
            f"qdisc replace {dev} root tbf rate {impairment.rate_kbps:g}kbit burst {burst}"
            f" latency {impairment.queue_ms:g}ms",
        )

    def _tc(self, side: _Side, command: str, *, quiet: bool = False) -> str:
        """``tc <command>`` in the namespace of ``side``'s sending veth."""
        argv = exec_in(side.tc_netns, "tc", *command.split())
        return self._quietly(argv) if quiet else self._run(argv, None)

    def _quietly(self, argv: Sequence[str]) -> str:
        """Run a command whose failure only means "nothing there" (a show or a delete)."""
        try:
            return self._run(argv, None)
        except KernelImpairmentError:
            return ""


def _leaf(impairment: Impairment) -> str:
    """The qdisc under a port's htb class: netem for delay, else a FIFO of ``queue_ms``."""
    if impairment.needs_delay:
        jitter = f" {impairment.jitter_ms:g}ms" if impairment.jitter_ms > 0 else ""
        return f"netem delay {impairment.delay_ms:g}ms{jitter}"
    return f"bfifo limit {_queue_bytes(impairment)}"


def _queue_bytes(impairment: Impairment) -> int:
    if impairment.rate_kbps is None:
        return 1_000_000
    return max(MIN_QUEUE_BYTES, int(impairment.rate_kbps * 1000 / 8 * impairment.queue_ms / 1000))


def _comment(port: int) -> str:
    return f"rtcsim port {port}"


def _checked_ports(ports: Iterable[int]) -> list[int]:
    checked = sorted(set(ports))
    if not checked:
        raise ValueError("no ports: name the peer by at least one local UDP port")
    for port in checked:
        if not 1 <= port <= 65535:
            raise ValueError(f"not a UDP port: {port}")
    return checked
