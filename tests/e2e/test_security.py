"""The holes an adversarial probe found, each closed and checked against the real server
and the real `cw`: forged replies, readable files and secrets, poisoned streams,
malformed credentials, terminal escapes and floods (docs/security.md)."""

from __future__ import annotations

import http.client
import json
import os
import select
import sqlite3
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from tests.support.server import CW, CallError, ServerProcess

pytestmark = pytest.mark.slow


def agent(server: ServerProcess, name: str) -> dict[str, Any]:
    return server.create_agent(name=name)


def wait_for_pending_question(server: ServerProcess, who: dict[str, Any]) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        shown = server.call("query", "agent.get", {"id": who["id"]})
        if shown.get("pendingQuestions"):
            return str(shown["pendingQuestions"][0]["messageId"])
        time.sleep(0.05)
    raise AssertionError(f"{who['name']} never asked")


def read_line(process: subprocess.Popen[str], timeout: float = 15) -> str:
    """One line of the process's stdout, or fail after ``timeout`` (never hangs)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "no output in time"
    return process.stdout.readline()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_agent_cannot_forge_the_persons_reply(server: ServerProcess) -> None:
    asker, forger = agent(server, "asker"), agent(server, "forger")
    waiting = server.spawn_cw("ask", "--user", "May I drop the production table?", agent=asker)
    question = wait_for_pending_question(server, asker)

    with pytest.raises(CallError) as refused:
        server.call(
            "mutation",
            "message.create",
            {
                "content": "YES",
                "type": "response",
                "parentMessageId": question,
                "recipientId": asker["id"],
            },
            token=forger["token"],
        )
    assert refused.value.code == "FORBIDDEN"
    assert "only the person" in refused.value.message

    assert server.cw("reply", question, "NO").returncode == 0
    out, err = waiting.communicate(timeout=30)
    assert (waiting.returncode, out.strip()) == (0, "NO"), err


def test_the_data_directory_and_every_file_in_it_are_private(server: ServerProcess) -> None:
    server.call("mutation", "agent.create", {"name": "writer"})  # the WAL now has data
    home = server.home
    database = home / "crosswalk.db"
    assert mode(home) == 0o700
    for path in (database, home / "crosswalk.db-wal", home / "crosswalk.db-shm"):
        assert path.exists(), path
        assert mode(path) == 0o600, path
    assert mode(home / "admin-token") == 0o600
    assert mode(home / "secret-key") == 0o600


def test_loose_files_are_tightened_with_a_warning(server: ServerProcess) -> None:
    server.stop()
    database = server.home / "crosswalk.db"
    database.chmod(0o644)
    server.home.chmod(0o755)
    server.start()
    assert mode(database) == 0o600
    assert mode(server.home) == 0o700
    assert f"{database} was readable by others (mode 644); tightened to 600" in server.log()


def test_account_secrets_are_not_in_the_database_files(server: ServerProcess) -> None:
    secret = "sk-ant-VERY-SECRET-credential-4242"
    config = '{"apiKey": "cfg-SECRET-9191"}'
    created = server.call(
        "mutation",
        "account.create",
        {"email": "a@example.com", "credentials": secret, "configJson": config},
    )
    assert server.call("query", "account.get", {"id": created["id"]})["hasCredentials"] is True

    raw = b"".join(
        path.read_bytes() for path in server.home.iterdir() if path.name.startswith("crosswalk.db")
    )
    assert secret.encode() not in raw
    assert b"cfg-SECRET-9191" not in raw
    assert b"fernet:" in raw  # what is there is the ciphertext
    key = (server.home / "secret-key").read_bytes().strip()
    assert key not in raw
    with sqlite3.connect(server.home / "crosswalk.db") as db:
        [stored] = db.execute("SELECT credentials FROM accounts").fetchone()
    assert Fernet(key).decrypt(stored.removeprefix("fernet:").encode()).decode() == secret


def test_a_newline_id_is_refused_and_the_victims_stream_keeps_working(
    server: ServerProcess,
) -> None:
    attacker, victim, friend = (
        agent(server, "attacker"),
        agent(server, "victim"),
        agent(server, "friend"),
    )
    listening = server.spawn_cw("listen", "--follow", "--json", "--timeout", "60", agent=victim)
    time.sleep(0.5)  # let the stream open

    with pytest.raises(CallError) as refused:
        server.call(
            "mutation",
            "conversation.ask",
            {
                "id": "evil\nid-000000000000",
                "fromAgentId": attacker["id"],
                "toAgentId": victim["id"],
                "question": "poison?",
            },
            token=attacker["token"],
        )
    assert refused.value.code == "BAD_REQUEST"
    assert "client-chosen id" in refused.value.message

    asked = server.cw("ask", "--agent", "victim", "--no-wait", "still there?", agent=friend)
    assert asked.returncode == 0, asked.stderr
    received = json.loads(read_line(listening))
    assert received["question"] == "still there?"
    assert "Traceback" not in server.log()


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer \xff\xfe", b"Bearer caf\xc3\xa9", b"Bearer a\tb", b"Basic Zm9vOmJhcg=="],
)
def test_malformed_credentials_are_401_not_500(server: ServerProcess, authorization: bytes) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", "/trpc/agent.list")
        connection.putheader("authorization", authorization)
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 401
    assert body["error"]["data"]["code"] == "UNAUTHORIZED"
    assert "Traceback" not in server.log()


def test_terminal_escapes_are_shown_not_obeyed(server: ServerProcess) -> None:
    asker = agent(server, "asker")
    evil = "clear\x1b[2J\x1b]0;pwned\x07 \x9b31m done"
    asked = server.cw("ask", "--user", "--no-wait", evil, agent=asker)
    assert asked.returncode == 0, asked.stderr
    message_id = asked.stdout.strip()

    for args in (["inbox"], ["message", "show", message_id], ["message", "thread", message_id]):
        shown = server.cw(*args)
        assert shown.returncode == 0, shown.stderr
        assert not any(ch in shown.stdout for ch in "\x1b\x07\x9b"), args
        assert "\\x1b[2J" in shown.stdout or "\\x1b[2J" in shown.stdout.replace(" ", ""), args

    as_json = json.loads(server.cw("inbox", "--json").stdout)
    assert as_json[0]["content"] == evil  # programs get the text exactly


def test_a_flood_of_questions_is_refused_at_the_cap(tmp_path: Path) -> None:
    server = ServerProcess(
        home=tmp_path / "home", server_env={"CW_MAX_PENDING_QUESTIONS": "3", "CW_PAGE_SIZE": "2"}
    ).start()
    try:
        flooder, target = agent(server, "flooder"), agent(server, "target")
        for n in range(3):
            done = server.cw("ask", "--agent", "target", "--no-wait", f"q{n}", agent=flooder)
            assert done.returncode == 0, done.stderr
        refused = server.cw("ask", "--agent", "target", "--no-wait", "one more", agent=flooder)
        assert refused.returncode == 1
        assert "CW_MAX_PENDING_QUESTIONS" in refused.stderr
        assert "3 unanswered questions" in refused.stderr

        page = server.call("query", "conversation.pending", {"agentId": target["id"]})
        assert [q["question"] for q in page] == ["q0", "q1"]
        listened = server.cw("listen", "--json", agent=target)
        assert [q["question"] for q in json.loads(listened.stdout)] == ["q0", "q1", "q2"]
    finally:
        server.close()


# --- start-up failures: each names the file or setting, and exits with its own code -------


def serve(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`cw serve` expected to fail at once (a bounded wait all the same)."""
    probe = ServerProcess(home=home)
    return subprocess.run(
        [CW, "serve", "--port", str(probe.port), *args],
        env=probe.env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
    )


def started_once(home: Path) -> None:
    server = ServerProcess(home=home).start()
    server.close()


def test_a_corrupt_database_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "crosswalk.db").write_bytes(b"this is not SQLite at all" * 100)
    done = serve(home)
    assert done.returncode == 13, done.stderr
    assert str(home / "crosswalk.db") in done.stderr
    assert "restore it from a backup" in done.stderr
    assert "bug" not in done.stderr


def test_another_programs_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(home / "crosswalk.db") as db:
        db.execute("CREATE TABLE users (id INTEGER)")
    done = serve(home)
    assert done.returncode == 13, done.stderr
    assert "another program's database" in done.stderr


def test_a_database_from_a_newer_crosswalk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started_once(home)
    with sqlite3.connect(home / "crosswalk.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    done = serve(home)
    assert done.returncode == 14, done.stderr
    assert "'9999'" in done.stderr
    assert "upgrade crosswalk" in done.stderr


def test_the_admin_token_is_a_directory(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "admin-token").mkdir(parents=True)
    done = serve(home)
    assert done.returncode == 12, done.stderr
    assert str(home / "admin-token") in done.stderr
    assert "is a directory" in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: run as a normal user")
def test_a_data_directory_we_may_not_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    try:
        done = serve(home)
    finally:
        home.chmod(0o755)
    assert done.returncode == 12, done.stderr
    assert str(home) in done.stderr
    assert "permission" in done.stderr


def test_a_database_we_may_not_write(tmp_path: Path) -> None:
    """A read-only database (here opened read-only, which works even as root)."""
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()
    done = serve(home, "--db", f"sqlite:///file:{path}?mode=ro&uri=true")
    assert done.returncode == 12, done.stderr
    assert "cannot write the database" in done.stderr
    assert "readonly" in done.stderr


def test_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        probe = ServerProcess(home=tmp_path / "home")
        done = subprocess.run(
            [CW, "serve", "--port", str(port)],
            env=probe.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 16, done.stderr
    assert f"port {port}" in done.stderr
    assert "--port" in done.stderr


@pytest.mark.parametrize(
    ("variable", "accepted"),
    [
        ("CW_PAGE_SIZE", "a whole number from 1 to 100000"),
        ("CW_DB_THREADS", "a whole number of at least 1"),
        ("CW_AGENT_STOP_GRACE_S", "a number of seconds from 0 to 3600"),
    ],
)
def test_a_bad_setting(tmp_path: Path, variable: str, accepted: str) -> None:
    done = serve(tmp_path / "home", env={variable: "lots"})
    assert done.returncode == 11, done.stderr
    assert done.stderr == f"error: {variable}='lots' is not {accepted}; fix or unset it\n"


def test_a_wrong_secret_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = ServerProcess(home=home).start()
    try:
        server.call("mutation", "account.create", {"email": "a@b.c", "credentials": "s3cret"})
    finally:
        server.close()
    (home / "secret-key").write_text(Fernet.generate_key().decode() + "\n")
    done = serve(home)
    assert done.returncode == 15, done.stderr
    assert "secret-key" in done.stderr


@pytest.mark.parametrize("token", ["caf\u00e9-token", "cw_abc\ndef", "two words"])
def test_a_token_with_impossible_characters_is_a_usage_error(
    server: ServerProcess, token: str
) -> None:
    done = server.cw("agent", "list", env={"CW_TOKEN": token})
    assert done.returncode == 2, done.stderr
    assert "CW_TOKEN" in done.stderr
    assert "bug" not in done.stderr


def test_a_data_directory_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a directory")
    done = serve(home)
    assert done.returncode == 12, done.stderr
    assert str(home) in done.stderr
    assert "bug" not in done.stderr
