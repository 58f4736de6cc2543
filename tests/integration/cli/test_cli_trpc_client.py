"""``TrpcClient`` on real sockets: keep-alive, reconnects, timeouts, envelopes, streams."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crosswalk.cli.client import (
    ConnectionLostError,
    RemoteError,
    RequestTimeoutError,
    TrpcClient,
    UnreachableError,
)

from .cw_fake_server import FakeTrpcServer

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def server() -> Iterator[FakeTrpcServer]:
    fake = FakeTrpcServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def client(server: FakeTrpcServer) -> Iterator[TrpcClient]:
    with TrpcClient(server.url, "tok", timeout_s=5) as trpc:
        yield trpc


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTrpcServer]:
    """The fake server over TLS, with a self-signed certificate the client trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    subprocess.run(
        [*command.split(), "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
        timeout=30,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    fake = FakeTrpcServer(tls=context).start()
    yield fake
    fake.stop()


def _ask(client: TrpcClient, cid: str) -> dict[str, object]:
    result: dict[str, object] = client.mutation(
        "conversation.ask",
        {"id": cid, "fromAgentId": "asker", "toAgentId": "helper", "question": "q"},
    )
    return result


def test_query_and_mutation_share_one_connection(
    server: FakeTrpcServer, client: TrpcClient
) -> None:
    _ask(client, "a" * 21)
    got = client.query("conversation.get", {"id": "a" * 21})

    assert got["id"] == "a" * 21
    assert server.store.connections == 1
    post, get = server.store.headers
    assert post["content-type"] == "application/json"
    assert post["authorization"] == get["authorization"] == "Bearer tok"


def test_no_token_sends_no_authorization(server: FakeTrpcServer) -> None:
    with TrpcClient(server.url, None) as anonymous:
        anonymous.query("conversation.list", {})
    assert "authorization" not in server.store.headers[0]


def test_replays_once_when_the_server_closed_the_idle_connection(
    server: FakeTrpcServer, client: TrpcClient
) -> None:
    server.store.close_after_response = True  # closes after each response, unannounced
    _ask(client, "b" * 21)
    time.sleep(0.05)

    assert client.query("conversation.get", {"id": "b" * 21})["id"] == "b" * 21
    assert server.store.connections == 2


def test_survives_a_full_server_restart_between_calls(
    server: FakeTrpcServer, client: TrpcClient
) -> None:
    _ask(client, "c" * 21)
    server.stop()
    server.start()
    assert client.query("conversation.get", {"id": "c" * 21})["status"] == "pending"


def test_error_envelope_becomes_remote_error(client: TrpcClient) -> None:
    with pytest.raises(RemoteError) as exc:
        client.query("conversation.get", {"id": "nope"})
    assert (exc.value.code, exc.value.message, exc.value.http_status) == (
        "NOT_FOUND",
        "conversation 'nope' not found",
        404,
    )


def test_unknown_procedure(client: TrpcClient) -> None:
    with pytest.raises(RemoteError, match=r'No procedure found on path "no\.such"'):
        client.query("no.such")


def test_wrong_base_path_is_explained(server: FakeTrpcServer) -> None:
    with (
        TrpcClient(f"http://127.0.0.1:{server.port}/api", None) as wrong,
        pytest.raises(RemoteError) as exc,
    ):
        wrong.query("health")
    assert exc.value.http_status == 404
    assert "/trpc endpoint" in exc.value.message


def test_read_timeout_is_not_unreachable(client: TrpcClient) -> None:
    with pytest.raises(RequestTimeoutError):
        client.query("slow", {"seconds": 1}, timeout_s=0.2)
    # the client recovers on a fresh connection
    assert client.query("conversation.list", {})["items"] == []


def test_refused_connection_is_unreachable_and_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        TrpcClient(f"http://127.0.0.1:{port}/trpc", None) as dead,
        pytest.raises(UnreachableError) as exc,
    ):
        dead.query("health")
    assert exc.value.message == "connection refused"
    assert exc.value.request_sent is False


def test_reset_mid_request_is_unreachable_after_sending(server: FakeTrpcServer) -> None:
    with TrpcClient(server.url, None) as fresh:
        server.store.ask({"id": "d" * 21, "fromAgentId": "asker", "question": "q"})
        failure: list[BaseException] = []

        def wait() -> None:
            try:
                fresh.query("conversation.waitForAnswer", {"id": "d" * 21, "timeoutMs": 5000})
            except BaseException as exc:
                failure.append(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        server.store.wait_for(lambda: "conversation.waitForAnswer" in server.store.paths())
        server.stop()
        waiter.join(5)

    assert len(failure) == 1
    assert isinstance(failure[0], UnreachableError)
    assert failure[0].request_sent is True


def test_unknown_host_is_unreachable() -> None:
    with (
        TrpcClient("http://no-such-host.invalid/trpc", None) as nowhere,
        pytest.raises(UnreachableError, match="unknown host"),
    ):
        nowhere.query("health")


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "until-close"])
def test_subscription_streams_tracked_values(
    server: FakeTrpcServer, client: TrpcClient, chunked: bool
) -> None:
    server.store.chunked_streams = chunked
    server.store.ask(
        {"id": "e" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "q"}
    )
    server.store.return_when_idle = True

    events = list(client.subscribe("conversation.onQuestion", {"agentId": "helper"}))

    assert [(event_id, value["question"]) for event_id, value in events] == [("e" * 21, "q")]
    assert server.store.headers[-1]["accept"] == "text/event-stream"


def test_subscription_deadline_raises_request_timeout(
    server: FakeTrpcServer, client: TrpcClient
) -> None:
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        list(
            client.subscribe(
                "conversation.onQuestion",
                {"agentId": "helper"},
                deadline=time.monotonic() + 0.3,
            )
        )
    assert time.monotonic() - started < 3


def test_subscription_broken_by_a_stop_is_connection_lost(
    server: FakeTrpcServer, client: TrpcClient
) -> None:
    stream = client.subscribe("conversation.onQuestion", {"agentId": "helper"})
    stopper = threading.Timer(0.2, server.stop)
    stopper.start()
    with pytest.raises(ConnectionLostError):
        list(stream)
    stopper.join()


def test_subscription_refused_before_streaming(server: FakeTrpcServer) -> None:
    server.store.required_token = "right"
    with TrpcClient(server.url, "wrong") as wrong, pytest.raises(RemoteError) as exc:
        list(wrong.subscribe("conversation.onQuestion", {"agentId": "helper"}))
    assert exc.value.code == "UNAUTHORIZED"


def test_https_calls_and_streams_work(tls_server: FakeTrpcServer) -> None:
    assert tls_server.url.startswith("https://")
    with TrpcClient(tls_server.url, "tok", timeout_s=5) as trpc:
        asked = _ask(trpc, "c-tls")
        assert trpc.query("conversation.get", {"id": "c-tls"})["id"] == asked["id"]
        tls_server.store.return_when_idle = True
        streamed = list(trpc.subscribe("conversation.onQuestion", {"agentId": "helper"}))
    assert [cid for cid, _ in streamed] == ["c-tls"]
    assert tls_server.store.connections == 2  # one kept-alive connection, one stream


def test_https_refuses_an_untrusted_certificate(
    tls_server: FakeTrpcServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "no-cas.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with TrpcClient(tls_server.url, "tok", timeout_s=5) as trpc, pytest.raises(UnreachableError):
        trpc.query("conversation.get", {"id": "x"})
