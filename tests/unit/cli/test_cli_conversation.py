"""Conversation commands against an in-memory client and clock: the waiting logic."""

from __future__ import annotations

import json
import re

import pytest

from crosswalk.cli import asking
from crosswalk.cli.asking import id_arg, new_question_id
from crosswalk.cli.errors import (
    ConnectionLostError,
    RemoteError,
    RequestTimeoutError,
    UnreachableError,
)

from .cli_fakes import Cw, conversation, long_poll_pending

ANSWERED = conversation("c1", "answered")
PENDING = conversation("c1", "pending")


def test_new_ids_look_like_nanoids_and_never_start_like_an_option() -> None:
    ids = {new_question_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{20}", cid) for cid in ids)


def test_id_arg_protects_leading_dashes() -> None:
    assert id_arg("abc") == "abc"
    assert id_arg("-abc") == "-- -abc"


@pytest.mark.parametrize(
    ("flag", "key"), [("--agent", "toAgentId"), ("--task", "taskId"), ("--phase", "phaseId")]
)
def test_ask_sends_one_target_and_a_client_made_id(flag: str, key: str) -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING).on("conversation.waitForAnswer", ANSWERED)

    assert cw("ask", flag, "X", "why?") == (0, "the answer\n", "")

    kind, path, sent = cw.client.calls[0]
    assert (kind, path) == ("mutation", "conversation.ask")
    assert set(sent) == {"id", "fromAgentId", "question", key}
    assert (sent["fromAgentId"], sent["question"], sent[key]) == ("me", "why?", "X")
    assert len(sent["id"]) == 21


def test_ask_waits_on_the_id_the_server_returned() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING).on("conversation.waitForAnswer", ANSWERED)
    cw("ask", "--agent", "x", "q")
    assert cw.client.calls[1] == (
        "query",
        "conversation.waitForAnswer",
        {"id": "c1", "timeoutMs": 25000},
    )


def test_wait_loops_over_long_polls_until_answered() -> None:
    cw = Cw()
    pending = long_poll_pending(cw.clock, PENDING)
    cw.client.on("conversation.waitForAnswer", pending, pending, pending, ANSWERED)

    assert cw("wait", "c1", "--timeout", "100") == (0, "the answer\n", "")

    polls = [sent["timeoutMs"] for _, _, sent in cw.client.calls]
    assert polls == [25000, 25000, 25000, 25000]
    assert cw.client.timeouts == [35.0] * 4  # each read outlives its poll by a margin
    assert cw.clock.sleeps == []


def test_the_last_poll_is_cut_to_the_deadline() -> None:
    cw = Cw()
    cw.client.on("conversation.waitForAnswer", long_poll_pending(cw.clock, PENDING))

    result = cw("wait", "c1", "--timeout", "30")

    assert result.code == 3
    assert [sent["timeoutMs"] for _, _, sent in cw.client.calls] == [25000, 5000]


def test_wait_timeout_is_3_and_says_how_to_resume() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING)
    cw.client.on("conversation.waitForAnswer", long_poll_pending(cw.clock, PENDING))

    result = cw("ask", "--agent", "x", "--timeout", "60", "q")

    assert result.code == 3
    assert result.out == ""
    assert result.err == (
        "error: timed out waiting for an answer to conversation c1; resume with: cw wait c1\n"
    )


def test_resume_hint_protects_an_id_starting_with_a_dash() -> None:
    cw = Cw()
    cw.client.on("conversation.waitForAnswer", long_poll_pending(cw.clock, PENDING))
    result = cw("wait", "--timeout", "1", "--", "-dash")
    assert "resume with: cw wait -- -dash" in result.err


def test_wait_rides_out_a_server_restart() -> None:
    cw = Cw()
    lost = UnreachableError("connection reset by the server", request_sent=True)
    refused = UnreachableError("connection refused")
    cw.client.on("conversation.ask", PENDING)
    cw.client.on(
        "conversation.waitForAnswer",
        long_poll_pending(cw.clock, PENDING),
        lost,
        refused,
        refused,
        RemoteError("SERVICE_UNAVAILABLE", "shutting down", 503),
        ANSWERED,
    )

    assert cw("ask", "--agent", "x", "q") == (0, "the answer\n", "")
    assert cw.clock.sleeps == [0.05, 0.1, 0.2, 0.4]


def test_backoff_doubles_and_is_capped_at_one_second() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING)
    cw.client.on("conversation.waitForAnswer", *[UnreachableError("refused")] * 8, ANSWERED)

    assert cw("ask", "--agent", "x", "q").code == 0
    assert cw.clock.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


def test_unreachable_until_the_deadline_times_out_with_the_reason() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING)
    cw.client.on("conversation.waitForAnswer", UnreachableError("connection refused"))

    result = cw("ask", "--agent", "x", "--timeout", "5", "q")

    assert result.code == 3
    assert "resume with: cw wait c1" in result.err
    assert "hint: the server was unreachable at the end: connection refused" in result.err
    assert sum(cw.clock.sleeps) == pytest.approx(5.0)


def test_cw_wait_with_no_server_fails_fast_with_4() -> None:
    cw = Cw()
    cw.client.on("conversation.waitForAnswer", UnreachableError("connection refused"))
    assert cw("wait", "c1").code == 4
    assert len(cw.client.calls) == 1


def test_refusal_during_wait_is_1() -> None:
    cw = Cw()
    cw.client.on(
        "conversation.waitForAnswer", RemoteError("NOT_FOUND", "conversation 'c9' not found", 404)
    )
    assert cw("wait", "c9") == (1, "", "error: conversation 'c9' not found\n")


def test_a_server_that_returns_early_is_not_hammered() -> None:
    cw = Cw()
    cw.client.on("conversation.waitForAnswer", PENDING, PENDING, ANSWERED)
    assert cw("wait", "c1").code == 0
    assert cw.clock.sleeps == [0.05, 0.1]


def test_ask_retries_a_lost_response_with_the_same_id() -> None:
    cw = Cw()
    cw.client.on(
        "conversation.ask",
        UnreachableError("connection reset", request_sent=True),
        RequestTimeoutError("no answer"),
        PENDING,
    )
    cw.client.on("conversation.waitForAnswer", ANSWERED)

    assert cw("ask", "--agent", "x", "q").code == 0

    asks = [sent for _, path, sent in cw.client.calls if path == "conversation.ask"]
    assert len(asks) == 3
    assert asks[0] == asks[1] == asks[2]


def test_ask_with_nothing_listening_fails_fast_with_4() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", UnreachableError("connection refused"))
    assert cw("ask", "--agent", "x", "q").code == 4
    assert len(cw.client.calls) == 1


def test_ask_that_never_gets_through_says_where_to_look() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", UnreachableError("reset", request_sent=True))
    result = cw("ask", "--agent", "x", "--no-wait", "q")
    cid = cw.client.calls[0][2]["id"]
    assert result.code == 4
    assert f"hint: the question may have reached the server as conversation {cid}" in result.err
    assert sum(cw.clock.sleeps) == pytest.approx(asking.ASK_RETRY_S)


def test_ctrl_c_while_waiting_keeps_the_question_and_says_how_to_resume() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING).on("conversation.waitForAnswer", KeyboardInterrupt())

    result = cw("ask", "--agent", "x", "q")

    assert result.code == 130
    assert "the question stays pending as conversation c1" in result.err
    assert "cw wait c1" in result.err


def test_ctrl_c_before_the_ask_is_confirmed() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", KeyboardInterrupt())
    result = cw("ask", "--agent", "x", "q")
    cid = cw.client.calls[0][2]["id"]
    assert result.code == 130
    assert f"cw conversation show {cid}" in result.err


def test_question_from_stdin_loses_surrounding_blank_lines_but_keeps_indentation() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING).on("conversation.waitForAnswer", ANSWERED)
    cw("ask", "--agent", "x", "-", stdin=" \n\n    code()\nWhy?  \n\n")
    assert cw.client.calls[0][2]["question"] == "    code()\nWhy?"


@pytest.mark.parametrize(("question", "stdin"), [("  ", ""), ("-", ""), ("-", " \n\t")])
def test_an_empty_question_is_a_usage_error(question: str, stdin: str) -> None:
    cw = Cw()
    result = cw("ask", "--agent", "x", question, stdin=stdin)
    assert result.code == 2
    assert "the question is empty" in result.err
    assert cw.client.calls == []


def test_without_an_identity_the_person_asks_and_waits() -> None:
    """No agent identity: the admin token asks as the person (no ``fromAgentId``), and
    ``--no-wait`` asks for no hook delivery (the person has no hooks)."""
    cw = Cw({"CW_AGENT_ID": ""})
    cw.client.on("conversation.ask", {**PENDING, "fromAgentId": None})
    cw.client.on("conversation.waitForAnswer", {**ANSWERED, "fromAgentId": None})
    assert cw("ask", "--agent", "x", "q") == (0, "the answer\n", "")
    assert set(cw.client.calls[0][2]) == {"id", "question", "toAgentId"}
    cw("ask", "--agent", "x", "--no-wait", "q")
    assert "deliverAnswer" not in cw.client.calls[-1][2]


def test_asking_the_person_needs_an_identity() -> None:
    cw = Cw({"CW_AGENT_ID": ""})
    result = cw("ask", "--user", "q")
    assert result.code == 2
    assert "set CW_AGENT_ID" in result.err
    assert cw.client.calls == []


def test_a_question_from_the_person_says_so() -> None:
    from crosswalk.cli.conversation import render_question, with_parties

    asked = {**PENDING, "fromAgentId": None, "fromAgentName": None}
    assert with_parties(asked)["from"] == "the person"
    assert render_question(asked).startswith("question c1 from the person")


def test_as_flag_sets_the_identity() -> None:
    cw = Cw({"CW_AGENT_ID": ""})
    cw.client.on("conversation.ask", PENDING).on("conversation.waitForAnswer", ANSWERED)
    cw("ask", "--as", "agent-7", "--agent", "x", "q")
    assert cw.client.calls[0][2]["fromAgentId"] == "agent-7"


def test_no_wait_prints_the_id_or_the_json() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING)
    assert cw("ask", "--agent", "x", "--no-wait", "q") == (0, "c1\n", "")
    as_json = cw("ask", "--agent", "x", "--no-wait", "--json", "q")
    assert json.loads(as_json.out) == PENDING
    assert "conversation.waitForAnswer" not in cw.client.paths()


def test_json_answer_is_the_conversation() -> None:
    cw = Cw()
    cw.client.on("conversation.ask", PENDING).on("conversation.waitForAnswer", ANSWERED)
    result = cw("--json", "ask", "--agent", "x", "q")
    assert json.loads(result.out) == ANSWERED


def test_phase_conflict_suggests_asking_one_agent() -> None:
    cw = Cw()
    cw.client.on(
        "conversation.ask", RemoteError("CONFLICT", "several agents: a (id 1), b (id 2)", 409)
    )
    result = cw("ask", "--phase", "P1", "q")
    assert result.code == 1
    assert "hint: several agents work in that phase: ask one with --agent or --task" in result.err


def test_listen_returns_the_first_non_empty_batch() -> None:
    cw = Cw()
    question = conversation(
        "c7", fromAgentId="asker", toAgentId="me", question="Line 1\nLine 2", taskId="T1"
    )
    cw.client.on("conversation.listen", long_poll_pending(cw.clock, []), [question])
    cw.client.on("conversation.pending", [])

    result = cw("listen")

    assert result.code == 0
    assert result.out == (
        "question c7 from agent asker (task T1):\n"
        "  Line 1\n"
        "  Line 2\n"
        "answer with: cw answer c7 ANSWER\n"
    )
    assert cw.client.calls[0][2] == {"agentId": "me", "timeoutMs": 25000}


def test_listen_reads_every_page_after_the_first() -> None:
    cw = Cw()
    first = conversation("c1", fromAgentId="asker", toAgentId="me", question="one?")
    second = conversation("c2", fromAgentId="asker", toAgentId="me", question="two?")
    cw.client.on("conversation.listen", [first])
    cw.client.on("conversation.pending", [second], [])

    result = cw("--json", "listen")

    assert [q["id"] for q in json.loads(result.out)] == ["c1", "c2"]
    assert [c[2].get("afterId") for c in cw.client.calls[1:]] == ["c1", "c2"]


def test_listen_times_out_with_3() -> None:
    cw = Cw()
    cw.client.on("conversation.listen", long_poll_pending(cw.clock, []))
    result = cw("listen", "--timeout", "40")
    assert result.code == 3
    assert "no question for agent me arrived within 40 s" in result.err


def test_listen_needs_an_identity() -> None:
    assert Cw({"CW_AGENT_ID": ""})("listen").code == 2


def test_follow_resumes_after_the_last_event_and_skips_repeats() -> None:
    cw = Cw()
    q1 = conversation("q1", toAgentId="me", question="one")
    q2 = conversation("q2", toAgentId="me", question="two")
    cw.client.stream(("q1", q1), ConnectionLostError("the server closed subscription"))
    cw.client.stream(("q1", q1), ("q2", q2))

    result = cw("listen", "--follow", "--json")

    assert result.code == 0
    assert [json.loads(line)["id"] for line in result.out.splitlines()] == ["q1", "q2"]
    assert [call[2]["lastEventId"] for call in cw.client.calls] == [None, "q1"]
    assert cw.clock.sleeps == [0.05]
    assert "reconnecting" in result.err


def test_follow_reconnects_after_an_internal_error_like_the_official_client() -> None:
    cw = Cw()
    cw.client.stream(RemoteError("INTERNAL_SERVER_ERROR", "oops", 500))
    cw.client.stream(("q1", conversation("q1")))
    assert cw("listen", "--follow").code == 0
    assert len(cw.client.calls) == 2


def test_follow_stops_on_a_refusal() -> None:
    cw = Cw()
    cw.client.stream(RemoteError("FORBIDDEN", "listen as yourself", 403))
    assert cw("listen", "--follow").code == 1


def test_follow_with_nothing_listening_fails_fast_with_4() -> None:
    cw = Cw()
    cw.client.stream(UnreachableError("connection refused"))
    assert cw("listen", "--follow").code == 4


def test_follow_deadline_exit_code_depends_on_whether_anything_came() -> None:
    quiet = Cw()
    quiet.client.stream(RequestTimeoutError("deadline"))
    assert quiet("listen", "--follow", "--timeout", "5").code == 3

    busy = Cw()
    busy.client.stream(("q1", conversation("q1")), RequestTimeoutError("deadline"))
    assert busy("listen", "--follow", "--timeout", "5").code == 0


def test_answer_sends_my_id_when_known() -> None:
    cw = Cw()
    cw.client.on("conversation.answer", conversation("c1", "answered", fromAgentId="asker"))

    result = cw("answer", "c1", "-", stdin="Yes.\n")

    assert result == (0, "answered conversation c1 (asked by agent asker)\n", "")
    assert cw.client.calls[0][2] == {"id": "c1", "answer": "Yes.", "agentId": "me"}


def test_answer_without_identity_lets_the_token_decide() -> None:
    cw = Cw({"CW_AGENT_ID": ""})
    cw.client.on("conversation.answer", ANSWERED)
    cw("answer", "c1", "ok")
    assert cw.client.calls[0][2] == {"id": "c1", "answer": "ok"}


def test_empty_answer_is_a_usage_error() -> None:
    assert Cw()("answer", "c1", "").code == 2


def test_conversation_get_detail_view() -> None:
    cw = Cw()
    cw.client.on("conversation.get", ANSWERED)
    lines = cw("conversation", "get", "c1").out.splitlines()
    assert lines[:3] == ["id:         c1", "status:     answered", "from:       me"]
    assert lines[-4:] == ["question:", "  q?", "answer:", "  the answer"]


def test_conversation_list_sends_only_given_filters_and_shows_the_next_page() -> None:
    cw = Cw()
    cw.client.on("conversation.list", {"items": [PENDING], "nextCursor": "-n3"})

    result = cw("conversation", "list", "--agent", "me", "--task", "T1", "--limit", "1")

    assert cw.client.calls[0][2] == {"agentId": "me", "taskId": "T1", "limit": 1}
    assert result.out.splitlines()[-1] == (
        "more: cw conversation list --agent=me --task=T1 --limit=1 --cursor=-n3"
    )


def test_conversation_list_empty_and_json() -> None:
    cw = Cw()
    cw.client.on("conversation.list", {"items": [], "nextCursor": None})
    assert cw("conversation", "list").out == "no conversations match\n"
    assert json.loads(cw("conversation", "list", "--json").out) == {"items": [], "nextCursor": None}


def test_ask_user_retries_a_lost_response_with_the_same_id() -> None:
    question = {"id": "m1", "status": "pending", "content": "q"}
    cw = Cw()
    cw.client.on(
        "message.askUser",
        UnreachableError("connection reset", request_sent=True),
        question,
    )
    result = cw("ask", "--user", "--no-wait", "q")
    assert result.code == 0
    sends = [sent for _, path, sent in cw.client.calls if path == "message.askUser"]
    assert len(sends) == 2
    assert sends[0] == sends[1]
    assert sends[0]["id"] and sends[0]["content"] == "q"


def test_a_suggested_command_quotes_an_id_with_a_space() -> None:
    cw = Cw()
    odd = conversation("old id", fromAgentId="asker", toAgentId="me", question="q?")
    cw.client.on("conversation.listen", [odd]).on("conversation.pending", [])

    result = cw("listen")

    assert "answer with: cw answer 'old id' ANSWER" in result.out


def test_a_notice_from_the_server_is_printed_once_on_stderr() -> None:
    cw = Cw()
    notice = "agent bob is idle and not run by crosswalk (...), so the answer may take a while"
    cw.client.on("conversation.ask", {**PENDING, "notice": notice})
    cw.client.on("conversation.waitForAnswer", ANSWERED)
    result = cw("ask", "--agent", "bob", "q")
    assert (result.code, result.out) == (0, "the answer\n")
    assert result.err == f"note: {notice}\n"
