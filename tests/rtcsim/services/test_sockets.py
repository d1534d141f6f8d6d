from __future__ import annotations

import socket

from rtcsim.services.sockets import _address, listening, listens_on


def test_proc_net_addresses_decode_in_host_byte_order() -> None:
    assert _address("0100007F:1F90") == ("127.0.0.1", 8080)
    assert _address("0000000000000000FFFF00000100007F:0050") == ("127.0.0.1", 80)


def test_a_listener_of_this_process_is_found_and_attributed_to_it() -> None:
    import os

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert ("tcp", "127.0.0.1", port) in listening(os.getpid())
        assert listens_on(os.getpid(), "127.0.0.1", port)
    assert not listens_on(os.getpid(), "127.0.0.1", port)
