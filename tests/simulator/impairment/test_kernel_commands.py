"""The kernel impairer's commands, seen through a fake runner: no root, no kernel."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from simulator.impairment import NONE, Impairment
from simulator.impairment.kernel import (
    Capabilities,
    ImpairmentUnsupported,
    KernelImpairer,
    host_candidate_ports,
)
from simulator.settings import Settings

THIS_KERNEL = Capabilities(netem=False, tbf=True, htb=True, nftables=True)
SETTINGS = Settings(
    sfu_netns="s-ns",
    client_netns="c-ns",
    sfu_veth="s0",
    client_veth="c0",
    sfu_address="198.18.0.1",
    client_address="198.18.0.2",
)


class FakeRunner:
    def __init__(self, replies: dict[str, str] | None = None) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.replies = replies or {}

    def __call__(self, argv: Sequence[str], stdin: str | None = None) -> str:
        command = " ".join(argv)
        self.calls.append((command, stdin))
        return next((reply for key, reply in self.replies.items() if key in command), "")

    def scripts(self, netns: str) -> list[str]:
        return [stdin for cmd, stdin in self.calls if stdin and f"exec {netns} nft -f -" in cmd]

    def commands(self, needle: str) -> list[str]:
        return [cmd for cmd, _ in self.calls if needle in cmd]


def test_uplink_loss_is_a_rule_on_the_sfu_input_hook_for_the_peers_source_port() -> None:
    run = FakeRunner()
    KernelImpairer(SETTINGS, run=run, caps=THIS_KERNEL).apply(
        [40000], Impairment(loss_pct=30), NONE
    )
    (script,) = run.scripts("s-ns")
    assert "hook input" in script
    assert (
        "add rule inet rtcsim_impair up ip saddr 198.18.0.2 udp sport 40000 "
        'numgen random mod 10000 < 3000 counter drop comment "rtcsim port 40000"'
    ) in script
    assert run.scripts("c-ns") == []  # no downlink loss: no table created there


def test_downlink_loss_is_a_rule_on_the_client_input_hook_for_the_peers_destination_port() -> None:
    run = FakeRunner()
    KernelImpairer(SETTINGS, run=run, caps=THIS_KERNEL).apply([40000], NONE, Impairment(loss_pct=5))
    (script,) = run.scripts("c-ns")
    assert "add rule inet rtcsim_impair down ip saddr 198.18.0.1 udp dport 40000" in script
    assert "< 500 counter drop" in script


def test_a_new_loss_replaces_the_peers_old_rule_in_the_same_transaction() -> None:
    listing = (
        '{"nftables": [{"rule": {"handle": 7, "comment": "rtcsim port 40000"}},'
        ' {"rule": {"handle": 8, "comment": "rtcsim port 50000"}}]}'
    )
    run = FakeRunner({"list tables": "table inet rtcsim_impair\n", "list chain": listing})
    KernelImpairer(SETTINGS, run=run, caps=THIS_KERNEL).apply([40000], Impairment(loss_pct=1), NONE)
    (script,) = run.scripts("s-ns")
    assert "delete rule inet rtcsim_impair up handle 7" in script
    assert "handle 8" not in script
    assert "< 100 counter drop" in script


def test_a_rate_cap_is_an_htb_class_per_port_chosen_by_a_u32_filter() -> None:
    run = FakeRunner()
    KernelImpairer(SETTINGS, run=run, caps=THIS_KERNEL).apply(
        [40000], Impairment(rate_kbps=500), NONE
    )
    assert run.commands("exec c-ns tc qdisc replace dev c0 root handle 1: htb")
    assert run.commands("class add dev c0 parent 1: classid 1:9c40 htb rate 500kbit ceil 500kbit")
    assert run.commands("qdisc add dev c0 parent 1:9c40 bfifo limit 12500")
    assert run.commands("pref 40000 u32 match ip sport 40000 0xffff flowid 1:9c40")
    assert [cmd for cmd in run.commands("dev s0") if " show " not in cmd] == []  # down: untouched


def test_without_htb_a_rate_cap_is_one_tbf_for_the_whole_veth() -> None:
    run = FakeRunner()
    caps = Capabilities(netem=False, tbf=True, htb=False, nftables=True)
    KernelImpairer(SETTINGS, run=run, caps=caps).apply([40000], NONE, Impairment(rate_kbps=800))
    assert run.commands("exec s-ns tc qdisc replace dev s0 root tbf rate 800kbit")


def test_delay_without_netem_is_refused_before_anything_changes() -> None:
    run = FakeRunner()
    impairer = KernelImpairer(SETTINGS, run=run, caps=THIS_KERNEL)
    with pytest.raises(
        ImpairmentUnsupported, match=r"netem.*missing from this kernel.*depth: process"
    ):
        impairer.apply([40000], Impairment(loss_pct=5, delay_ms=50), NONE)
    assert run.calls == []


def test_loss_without_nftables_says_how_to_install_it() -> None:
    caps = Capabilities(netem=False, tbf=True, htb=True, nftables=False)
    impairer = KernelImpairer(SETTINGS, run=FakeRunner(), caps=caps)
    with pytest.raises(ImpairmentUnsupported, match="apt-get install nftables"):
        impairer.apply([40000], Impairment(loss_pct=5), NONE)


def test_peers_are_named_by_the_udp_ports_of_their_host_candidates() -> None:
    sdp = (
        "a=candidate:1 1 udp 2130706431 198.18.0.2 40000 typ host\r\n"
        "a=candidate:2 1 udp 1694498815 203.0.113.9 40001 typ srflx raddr 198.18.0.2 rport 1\r\n"
        "a=candidate:3 1 tcp 1518280447 198.18.0.2 9 typ host tcptype active\r\n"
        "a=candidate:4 1 udp 2130706431 198.18.0.2 40000 typ host\r\n"
    )
    assert host_candidate_ports(sdp) == [40000]
