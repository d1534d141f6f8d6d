import pytest

from rtcsim.services.errors import NamespaceError
from rtcsim.services.lan import Lan
from simulator.settings import Settings


def test_the_default_slot_gets_rtcsim_names_and_a_lan_a_hundred_above_its_sfu() -> None:
    default = {"sfu_netns": "rtcsim-sfu", "client_netns": "rtcsim-cli"}
    lan = Lan.from_settings(Settings(**default, sfu_address="198.18.0.1"), 3)
    assert lan.bridge == "rtcsim-lan"
    assert lan.hub_netns == "rtcsim-cli"
    assert lan.bridge_address == "198.18.100.1"
    assert lan.network == "198.18.100.0/24"
    assert [m.netns for m in lan.machines] == ["rtcsim-m0", "rtcsim-m1", "rtcsim-m2"]
    assert lan.machines[0].bridge_port == "rtcsim-m0b"
    assert [m.address for m in lan.machines] == ["198.18.100.10", "198.18.100.11", "198.18.100.12"]


def test_a_slot_keeps_its_prefix_and_its_own_range() -> None:
    settings = Settings(
        sfu_netns="h4-sfu",
        client_netns="h4-cli",
        sfu_veth="h4-sfu0",
        client_veth="h4-cli0",
        sfu_address="198.18.24.1",
        client_address="198.18.24.2",
    )
    lan = Lan.from_settings(settings, 2)
    names = [lan.bridge, *(n for m in lan.machines for n in (m.netns, m.veth, m.bridge_port))]
    assert all(name.startswith("h4-") for name in names), names
    assert lan.network == "198.18.124.0/24"
    assert lan.sfu_address == "198.18.24.1"
    assert lan.client_address == "198.18.24.2"


def test_a_lan_that_would_leave_the_benchmark_range_is_refused() -> None:
    with pytest.raises(NamespaceError, match=r"10\.0\.100\.0/24"):
        Lan.from_settings(Settings(sfu_address="10.0.0.1", client_address="10.0.0.2"), 1)
    with pytest.raises(NamespaceError, match="third octet"):
        Lan.from_settings(Settings(sfu_address="198.18.200.1", client_address="198.18.200.2"), 1)


def test_names_longer_than_the_kernel_takes_are_refused() -> None:
    settings = Settings(sfu_netns="averylongprefix-sfu", client_netns="averylongprefix-cli")
    with pytest.raises(NamespaceError, match="longer than 15"):
        Lan.from_settings(settings, 1)
