"""The command line of each node rtcsim runs: one node alone, a cluster, security on."""

from __future__ import annotations

from pathlib import Path

from rtcsim.services.es_node import node_args, nodes

from .conftest import make_settings


def test_a_single_node_runs_alone_without_security(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, es_port=9250)
    [node] = nodes(settings)
    args = node_args(settings, node)
    assert "-Ediscovery.type=single-node" in args
    assert "-Expack.security.enabled=false" in args
    assert "-Ehttp.port=9250" in args
    assert "-Etransport.port=9350" in args


def test_the_nodes_of_a_cluster_find_each_other_on_their_transport_ports(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, es_port=9250, es_cluster_ports=[9252, 9253])
    cluster = nodes(settings)
    assert [n.http_port for n in cluster] == [9250, 9252, 9253]
    assert len({n.paths.root for n in cluster}) == 3, "each node has a folder of its own"
    args = node_args(settings, cluster[1])
    assert "-Ediscovery.type=single-node" not in args
    assert "-Ediscovery.seed_hosts=127.0.0.1:9350,127.0.0.1:9352,127.0.0.1:9353" in args
    assert "-Ecluster.initial_master_nodes=rtcsim-9250,rtcsim-9252,rtcsim-9253" in args
    assert "-Enode.name=rtcsim-9252" in args


def test_security_turns_on_tls_for_http_and_transport(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, es_security=True, es_scheme="https", es_user="u", es_password="secret1"
    )
    args = node_args(settings, nodes(settings)[0])
    assert "-Expack.security.enabled=true" in args
    assert "-Expack.security.http.ssl.enabled=true" in args
    assert "-Expack.security.transport.ssl.enabled=true" in args
    assert "-Expack.security.http.ssl.certificate_authorities=certs/ca.crt" in args
