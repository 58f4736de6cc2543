"""``cw`` commands end to end in-process, against a fake tRPC server on loopback."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

from crosswalk.cli import waiting
from crosswalk.cli.context import Runtime
from crosswalk.cli.main import run

from .cw_fake_server import FakeStore, FakeTrpcServer

pytestmark = pytest.mark.timeout(30)


class Result(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_HOME", str(tmp_path))


@pytest.fixture
def server() -> Iterator[FakeTrpcServer]:
    fake = FakeTrpcServer().start()
    yield fake
    fake.stop()


def cw(url: str, *argv: str, stdin: str = "", agent: str | None = "asker", **env: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    environ = {"CW_URL": url, **env}
    if agent:
        environ["CW_AGENT_ID"] = agent
    runtime = Runtime(env=environ, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    code = run(list(argv), runtime)
    return Result(code, out.getvalue(), err.getvalue())


def answer_when_asked(store: FakeStore, text: str, delay_s: float = 0.0) -> threading.Thread:
    """Play the helper agent: answer the first question once it arrives."""

    def helper() -> None:
        conversations = store.wait_for(lambda: list(store.conversations))
        time.sleep(delay_s)
        store.answer(conversations[0], text)

    thread = threading.Thread(target=helper, daemon=True)
    thread.start()
    return thread


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ask_waits_and_prints_the_answer(server: FakeTrpcServer) -> None:
    answer_when_asked(server.store, "yes, merged")

    result = cw(server.url, "ask", "--agent", "helper", "Is it merged?")

    assert result == Result(0, "yes, merged\n", "")
    (ask_input,) = [data for path, data in server.store.calls if path == "conversation.ask"]
    assert ask_input["fromAgentId"] == "asker"
    assert ask_input["toAgentId"] == "helper"
    assert ask_input["question"] == "Is it merged?"
    assert len(ask_input["id"]) == 21


def test_one_kept_alive_connection_serves_ask_and_wait(server: FakeTrpcServer) -> None:
    answer_when_asked(server.store, "ok", delay_s=0.1)

    assert cw(server.url, "ask", "--agent", "helper", "q").code == 0

    assert server.store.connections == 1


def test_wait_spans_several_long_poll_rounds(
    server: FakeTrpcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waiting, "LONG_POLL_S", 0.1)
    answer_when_asked(server.store, "late answer", delay_s=0.5)

    result = cw(server.url, "ask", "--agent", "helper", "q")

    assert result.code == 0
    assert result.out == "late answer\n"
    polls = [d for p, d in server.store.calls if p == "conversation.waitForAnswer"]
    assert len(polls) >= 3
    assert all(0 <= poll["timeoutMs"] <= 100 for poll in polls)


def test_wait_survives_a_server_restart(server: FakeTrpcServer) -> None:
    store = server.store
    done: list[Result] = []
    asker = threading.Thread(
        target=lambda: done.append(
            cw(server.url, "ask", "--agent", "helper", "q", "--timeout", "20")
        )
    )
    asker.start()
    store.wait_for(lambda: "conversation.waitForAnswer" in store.paths())

    server.stop()
    time.sleep(0.4)  # the client retries against a closed port meanwhile
    server.start()
    (cid,) = store.conversations
    store.answer(cid, "answered after restart")
    asker.join(10)

    assert done == [Result(0, "answered after restart\n", "")]
    assert store.paths().count("conversation.ask") == 1


def test_ask_times_out_with_exit_3_and_names_the_conversation(server: FakeTrpcServer) -> None:
    result = cw(server.url, "ask", "--agent", "helper", "--timeout", "0.3", "q")

    (cid,) = server.store.conversations
    assert result.code == 3
    assert result.out == ""
    assert f"timed out waiting for an answer to conversation {cid}" in result.err
    assert f"cw wait {cid}" in result.err


def test_cw_wait_resumes_and_gets_the_answer(server: FakeTrpcServer) -> None:
    asked = cw(server.url, "ask", "--agent", "helper", "--no-wait", "q")
    cid = asked.out.strip()
    assert asked.code == 0
    assert cid in server.store.conversations
    answer_when_asked(server.store, "42", delay_s=0.1)

    assert cw(server.url, "wait", cid).out == "42\n"


def test_unreachable_server_exits_4_with_advice() -> None:
    url = f"http://127.0.0.1:{dead_port()}/trpc"

    result = cw(url, "ask", "--agent", "helper", "q")

    assert result.code == 4
    assert result.out == ""
    assert result.err.startswith(f"error: cannot reach the crosswalk server at {url}: ")
    assert "connection refused" in result.err
    assert "start it with 'cw serve' or set CW_URL" in result.err


def test_unreachable_wait_fails_fast_instead_of_waiting() -> None:
    started = time.monotonic()
    result = cw(f"http://127.0.0.1:{dead_port()}/trpc", "wait", "abc", "--timeout", "30")
    assert result.code == 4
    assert time.monotonic() - started < 5


def test_server_refusal_exits_1_with_its_message(server: FakeTrpcServer) -> None:
    result = cw(server.url, "ask", "--agent", "nobody", "q")

    assert result == Result(1, "", "error: agent 'nobody' not found\n")


def test_unauthorized_explains_how_to_set_the_token(server: FakeTrpcServer) -> None:
    server.store.required_token = "s3cret"

    refused = cw(server.url, "conversation", "list")
    accepted = cw(server.url, "conversation", "list", CW_TOKEN="s3cret")

    assert refused.code == 1
    assert "error: missing or invalid bearer token" in refused.err
    assert "hint: set CW_TOKEN" in refused.err
    assert accepted.code == 0


def test_token_falls_back_to_the_admin_token_file(server: FakeTrpcServer, tmp_path: Any) -> None:
    server.store.required_token = "admin-abc"
    (tmp_path / "admin-token").write_text("admin-abc\n")

    assert cw(server.url, "conversation", "list").code == 0
    assert server.store.headers[-1]["authorization"] == "Bearer admin-abc"


def test_token_flag_beats_environment(server: FakeTrpcServer) -> None:
    cw(server.url, "conversation", "list", "--token", "from-flag", CW_TOKEN="from-env")
    assert server.store.headers[-1]["authorization"] == "Bearer from-flag"


def test_question_from_stdin(server: FakeTrpcServer) -> None:
    answer_when_asked(server.store, "fine")

    result = cw(server.url, "ask", "--task", "T1", "-", stdin="  multi\nline question\n")

    assert result.code == 0
    (conversation,) = server.store.conversations.values()
    assert conversation["question"] == "  multi\nline question"
    assert conversation["taskId"] == "T1"


def test_json_output_is_the_answered_conversation(server: FakeTrpcServer) -> None:
    answer_when_asked(server.store, "done")

    result = cw(server.url, "--json", "ask", "--agent", "helper", "q")

    document = json.loads(result.out)
    assert result.code == 0
    assert document["status"] == "answered"
    assert document["answer"] == "done"
    assert set(document) >= {"id", "fromAgentId", "toAgentId", "question", "createdAt"}


def test_listen_prints_pending_questions_with_id_and_asker(server: FakeTrpcServer) -> None:
    server.store.ask(
        {"id": "c" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "hi?"}
    )

    result = cw(server.url, "listen", agent="helper")

    assert result.code == 0
    assert f"question {'c' * 21} from agent asker" in result.out
    assert "  hi?" in result.out
    assert f"cw answer {'c' * 21} ANSWER" in result.out


def test_listen_json_is_one_list(server: FakeTrpcServer) -> None:
    server.store.ask(
        {"id": "d" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "q"}
    )

    result = cw(server.url, "listen", "--json", agent="helper")

    assert [c["id"] for c in json.loads(result.out)] == ["d" * 21]


def test_listen_times_out_with_exit_3(server: FakeTrpcServer) -> None:
    result = cw(server.url, "listen", "--timeout", "0.2", agent="helper")

    assert result.code == 3
    assert "no question for agent helper arrived within 0.2 s" in result.err


def test_listen_follow_reconnects_with_last_event_id(server: FakeTrpcServer) -> None:
    store = server.store
    store.ask(
        {"id": "q1" + "x" * 19, "fromAgentId": "asker", "toAgentId": "helper", "question": "one"}
    )
    store.ask(
        {"id": "q2" + "x" * 19, "fromAgentId": "asker", "toAgentId": "helper", "question": "two"}
    )
    store.drop_streams = 1
    store.return_when_idle = True

    result = cw(server.url, "listen", "--follow", "--json", "--timeout", "10", agent="helper")

    assert result.code == 0
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [c["question"] for c in lines] == ["one", "two"]
    first, second = store.subscription_inputs
    assert first == ({"agentId": "helper"}, None)
    assert second == ({"agentId": "helper", "lastEventId": "q1" + "x" * 19}, "q1" + "x" * 19)
    assert "reconnecting" in result.err


def test_listen_follow_survives_a_server_restart(server: FakeTrpcServer) -> None:
    store = server.store
    done: list[Result] = []
    listener = threading.Thread(
        target=lambda: done.append(
            cw(server.url, "listen", "--follow", "--timeout", "20", agent="helper")
        )
    )
    listener.start()
    store.wait_for(lambda: store.subscription_inputs)
    server.stop()
    store.ask({"id": "r" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "back?"})
    store.return_when_idle = True  # end the stream once the question is delivered
    time.sleep(0.3)  # the client retries against a closed port meanwhile
    server.start()
    listener.join(10)

    assert done[0].code == 0
    assert "question rrrrrrrrrrrrrrrrrrrrr from agent asker" in done[0].out
    assert "back?" in done[0].out
    assert len(store.subscription_inputs) >= 2


def test_listen_follow_reports_a_stream_error(server: FakeTrpcServer) -> None:
    result = cw(server.url, "listen", "--follow", "--timeout", "5", agent="forbidden")

    assert result == Result(1, "", result.err)
    assert result.err.startswith("error: you may only listen as yourself\n")


def test_listen_follow_times_out_with_exit_3_when_nothing_came(server: FakeTrpcServer) -> None:
    result = cw(server.url, "listen", "--follow", "--timeout", "0.3", agent="helper")
    assert result.code == 3


def test_answer_confirms_and_sends_my_id(server: FakeTrpcServer) -> None:
    conversation = server.store.ask(
        {"id": "e" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "q"}
    )

    result = cw(server.url, "answer", conversation["id"], "-", stdin="the answer\n", agent="helper")

    assert result == Result(0, f"answered conversation {'e' * 21} (asked by agent asker)\n", "")
    assert server.store.calls[-1] == (
        "conversation.answer",
        {"id": "e" * 21, "answer": "the answer", "agentId": "helper"},
    )


def test_answering_twice_is_refused(server: FakeTrpcServer) -> None:
    server.store.ask(
        {"id": "f" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "q"}
    )
    cw(server.url, "answer", "f" * 21, "one", agent="helper")

    result = cw(server.url, "answer", "f" * 21, "two", agent="helper")

    assert result.code == 1
    assert f"conversation '{'f' * 21}' is already answered" in result.err


def test_conversation_get_human_and_json(server: FakeTrpcServer) -> None:
    server.store.ask(
        {"id": "g" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": "why?"}
    )

    human = cw(server.url, "conversation", "get", "g" * 21)
    as_json = cw(server.url, "conversation", "get", "g" * 21, "--json")

    assert "status:" in human.out and "pending" in human.out
    assert "question:\n  why?" in human.out
    assert json.loads(as_json.out)["id"] == "g" * 21


def test_conversation_list_pages(server: FakeTrpcServer) -> None:
    for n in range(3):
        server.store.ask(
            {"id": f"{n}" * 21, "fromAgentId": "asker", "toAgentId": "helper", "question": f"q{n}"}
        )

    first = cw(server.url, "conversation", "list", "--limit", "2", "--status", "pending")
    as_json = cw(server.url, "conversation", "list", "--limit", "2", "--json")

    assert first.out.splitlines()[0].split() == [
        "ID",
        "STATUS",
        "FROM",
        "TO",
        "CREATED",
        "QUESTION",
    ]
    assert "more: cw conversation list --status=pending --limit=2 --cursor=2" in first.out
    assert json.loads(as_json.out)["nextCursor"] == "2"
    assert server.store.calls[0][1] == {"status": "pending", "limit": 2}
