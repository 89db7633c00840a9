"""The sandbox posts webhooks as a busy sender does: over kept connections, a closed one replaced, failures told."""
from __future__ import annotations

import http.server
import socket
import threading

import pytest

from local.sandbox.webhooks import WebhookClient


class App(http.server.ThreadingHTTPServer):
    """A webhook endpoint that records each POST's body and client port; closes the connection when told."""

    def __init__(self):
        self.posts: list[tuple[int, bytes, str | None]] = []
        self.close_next = False
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                app.posts.append((self.client_address[1], body, self.headers.get("X-Hub-Signature-256")))
                self.send_response(200 if body != b"bad" else 400)
                self.send_header("Content-Length", "2")
                if app.close_next:  # closed after this answer, unannounced: the client finds out on its next post
                    app.close_next = False
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/webhooks/meta"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def app():
    server = App()
    yield server
    server.shutdown()
    server.server_close()


def test_posts_share_a_kept_connection_and_each_is_signed(app):
    client = WebhookClient("secret", app.url)
    assert [client.post(f"{n}".encode()) for n in range(5)] == [(200, None)] * 5
    assert len({port for port, _, _ in app.posts}) == 1
    assert [body for _, body, _ in app.posts] == [b"0", b"1", b"2", b"3", b"4"]
    assert all(signature and signature.startswith("sha256=") for _, _, signature in app.posts)
    assert client.post(b"bad") == (400, None)
    assert client.post(b"x", sign=False) == (200, None) and app.posts[-1][2] is None
    kept_port = app.posts[-1][0]
    client.close()  # as the sandbox stops: the kept connection goes, the next post takes a new one
    assert client.post(b"y") == (200, None) and app.posts[-1][0] != kept_port


def test_a_connection_the_app_closed_is_replaced_and_nothing_is_posted_twice(app):
    client = WebhookClient("secret", app.url)
    app.close_next = True
    assert client.post(b"a") == (200, None)
    assert client.post(b"b") == (200, None)
    assert [body for _, body, _ in app.posts] == [b"a", b"b"]
    assert app.posts[0][0] != app.posts[1][0]


def test_an_app_that_cannot_be_reached_is_told_and_a_new_url_is_used_at_once(app):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    client = WebhookClient("secret", app.url)
    assert client.post(b"a") == (200, None)
    client.url = f"http://127.0.0.1:{closed_port}/webhooks/meta"
    status, reason = client.post(b"b")
    assert status is None and reason
    client.url = app.url
    assert client.post(b"c") == (200, None)
    assert [body for _, body, _ in app.posts] == [b"a", b"c"]
    client.url = "ftp://example.org/x"
    assert client.post(b"d")[0] is None
