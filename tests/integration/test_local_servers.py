"""The local API and web servers take a burst of connections: a listen queue of 5 dropped the rest, so local load
tests counted losses that AWS would never show."""
from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

BURST = 100


def _server(stack, which: str):
    return stack.api_server.server if which == "api" else stack.web._server


def _connect(host: str, port: int) -> socket.socket | None:
    try:
        return socket.create_connection((host, port), timeout=1.0)
    except OSError:
        return None


def _health(sock: socket.socket) -> str:
    with sock:
        sock.settimeout(10)
        sock.sendall(b"GET /health HTTP/1.0\r\nHost: local\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # to the end (HTTP/1.0): closing with unread data would reset the server
            answer += chunk
        return answer.split(b"\r\n")[0].decode()


@pytest.mark.parametrize("which", ["api", "web"])
def test_a_burst_of_connections_is_queued_and_every_one_answered(stack, monkeypatch, which):
    """The server's accept loop is held on its first connection (as a busy process would be) while 100 clients
    connect: every connection must wait in the listen queue, not be dropped, and each then gets its answer."""
    server, held, release = _server(stack, which), threading.Event(), threading.Event()
    real = server.verify_request

    def hold_once(request, client_address):
        if not held.is_set():
            held.set()
            release.wait(10)
        return real(request, client_address)

    monkeypatch.setattr(server, "verify_request", hold_once)
    host, port = server.server_address[:2]
    first = _connect(host, port)
    assert held.wait(5)
    try:
        with ThreadPoolExecutor(BURST) as pool:
            burst = list(pool.map(lambda _: _connect(host, port), range(BURST)))
    finally:
        release.set()
    connected = [s for s in burst if s is not None]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(_health, [first, *connected]))
    print(f"\n[local-servers] {which}: {len(connected)} of {BURST} connected while the server was busy, "
          f"{sum(a.endswith(' 200 OK') for a in answers)} answered 200")
    assert len(connected) == BURST
    assert all(a.endswith(" 200 OK") for a in answers), set(answers)
