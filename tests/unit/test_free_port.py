"""The local stack's ports are picked where no outgoing connection can take them before the servers bind them."""
from __future__ import annotations

import socket

from local.devserver import FIRST_FREE_PORT, _outgoing_ports_start, free_port


def test_free_ports_are_distinct_bindable_and_below_the_outgoing_range():
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(FIRST_FREE_PORT <= port < _outgoing_ports_start() for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))


def test_a_port_in_use_is_never_given(monkeypatch):
    import local.devserver as devserver

    with socket.socket() as taken:
        for busy in range(FIRST_FREE_PORT + 1234, _outgoing_ports_start()):
            try:
                taken.bind(("127.0.0.1", busy))
                break
            except OSError:
                continue
        taken.listen()
        picks = iter([busy - FIRST_FREE_PORT, busy - FIRST_FREE_PORT, busy + 1 - FIRST_FREE_PORT, 7])
        monkeypatch.setattr(devserver.secrets, "randbelow", lambda _: next(picks))
        assert free_port() != busy
