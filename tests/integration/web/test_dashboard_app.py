"""The dashboard in process (httpx's ASGI transport): sign-in, refusals, twins, secrets.

The browser tier (tests/browser) drives the same pages in Chromium against a real
server; these tests pin the HTTP-level rules without a browser.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from crosswalk.domain.enums import MessageType, ParticipantType, RunEnd
from crosswalk.domain.rows import Agent, NewAnsweringRun, NewMessage
from crosswalk.domain.usage import Usage
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.server.web import live

ORIGIN = "http://127.0.0.1"
SECRET = "sk-ant-very-secret-credential"


@pytest.fixture
def app(dual_database_url: str, tmp_path: Path) -> Iterator[CrosswalkApp]:
    """The app on SQLite and on PostgreSQL (where no page or form may query the
    database on the event loop: ``crosswalk.db.loop_guard``)."""
    built = create_app(dual_database_url, admin_token_file=tmp_path / "admin-token")
    try:
        yield built
    finally:
        built.close()


def admin_token(app: CrosswalkApp, tmp_path: Path) -> str:
    return (tmp_path / "admin-token").read_text().strip()


@asynccontextmanager
async def browser(app: CrosswalkApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app.asgi)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client


async def signed_in(client: httpx.AsyncClient, token: str) -> str:
    """Sign in through the form; returns the session's CSRF token (from a page)."""
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    done = await client.post(
        "/signin", data={"csrf": csrf[1], "token": token, "next": "/"}, headers={"origin": ORIGIN}
    )
    assert done.status_code == 303, done.text
    page = await client.get("/inbox")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found[1]


async def trpc(client: httpx.AsyncClient, token: str, path: str, payload: Any) -> Any:
    response = await client.post(
        f"/trpc/{path}", json=payload, headers={"authorization": f"Bearer {token}"}
    )
    body = response.json()
    assert "result" in body, body
    return body["result"]["data"]


def test_the_sign_in_form_needs_its_token_and_the_same_origin(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            form = await client.get("/signin")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            cross = await client.post(
                "/signin", data={"csrf": csrf[1], "token": token}, headers={"origin": "http://evil"}
            )
            assert cross.status_code == 403
            no_csrf = await client.post(
                "/signin", data={"token": token}, headers={"origin": ORIGIN}
            )
            assert no_csrf.status_code == 403
            assert "cw_session" not in client.cookies
            csrf = re.search(r'name="csrf" value="([^"]+)"', no_csrf.text)  # a fresh form
            assert csrf is not None
            offsite = await client.post(
                "/signin",
                data={"csrf": csrf[1], "token": token, "next": "https://evil.example/x"},
                headers={"origin": ORIGIN},
            )
            assert offsite.status_code == 303
            assert offsite.headers["location"] == "/"  # never sent to another site
            assert "cw_session" in client.cookies

    asyncio.run(scenario())


def test_pages_twins_and_secrets(app: CrosswalkApp, tmp_path: Path) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            account = await trpc(
                client, token, "account.create", {"email": "a@example.com", "credentials": SECRET}
            )
            agent = await trpc(
                client,
                token,
                "agent.create",
                {"name": "brave-otter", "accountId": account["id"], "status": "running"},
            )
            await trpc(
                client,
                agent["token"],
                "message.askUser",
                {"agentId": agent["id"], "content": "Drop the <b>legacy</b> table?"},
            )
            await signed_in(client, token)
            for path in [
                "/",
                "/agents",
                "/agents/brave-otter",
                "/inbox",
                "/accounts",
                "/conversations",
            ]:
                page = await client.get(path)
                assert page.status_code == 200, path
                twin = await client.get(f"{path.rstrip('/') or '/overview'}.json")
                assert twin.status_code == 200, path
                for body in (page.text, twin.text):
                    assert SECRET not in body, path
                    assert agent["token"] not in body, path
                    assert token not in body, path
                    assert "tokenHash" not in body, path
            inbox = (await client.get("/inbox.json")).json()
            [message] = inbox["messages"]
            assert message["content"] == "Drop the <b>legacy</b> table?"
            assert message["fromAgentName"] == "brave-otter"
            html = (await client.get("/inbox")).text
            assert "Drop the &lt;b&gt;legacy&lt;/b&gt; table?" in html
            overview = (await client.get("/overview.json")).json()
            assert overview["openQuestions"]["count"] == 1
            assert [a["name"] for a in overview["runningAgents"]] == ["brave-otter"]
            accounts = (await client.get("/accounts.json")).json()["accounts"]
            assert accounts[0]["hasCredentials"] is True
            missing = await client.get("/agents/nobody.json")
            assert missing.status_code == 404
            assert "nobody" in missing.json()["error"]

    asyncio.run(scenario())


def test_an_htmx_refresh_gets_only_the_live_region(app: CrosswalkApp, tmp_path: Path) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            await signed_in(client, token)
            full = await client.get("/inbox")
            region = await client.get("/inbox", headers={"hx-request": "true"})
            assert "<html" in full.text and 'sse-connect="/events?page=/inbox"' in full.text
            assert "<html" not in region.text and "<h1>Inbox</h1>" in region.text
            assert '<span id="inbox-badge" hx-swap-oob="true">' in region.text
            client.cookies.clear()
            expired = await client.get("/inbox", headers={"hx-request": "true"})
            assert expired.status_code == 401
            assert expired.headers["hx-redirect"] == "/signin"

    asyncio.run(scenario())


def test_a_reply_posted_in_the_page_is_the_reply_cw_sends(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            agent = await trpc(client, token, "agent.create", {"name": "calm-badger"})
            question = await trpc(
                client,
                agent["token"],
                "message.askUser",
                {"agentId": agent["id"], "content": "Go?"},
            )
            csrf = await signed_in(client, token)
            url = f"/inbox/{question['id']}/reply"
            empty = await client.post(
                url, data={"csrf": csrf, "content": "  "}, headers={"origin": ORIGIN}
            )
            assert empty.status_code == 400
            assert "content" in empty.text
            done = await client.post(
                url,
                data={"csrf": csrf, "content": "Go.", "next": "/inbox"},
                headers={"origin": ORIGIN},
            )
            assert done.status_code == 303 and done.headers["location"] == "/inbox"
            again = await client.post(
                url, data={"csrf": csrf, "content": "Again"}, headers={"origin": ORIGIN}
            )
            assert again.status_code == 409
            state = await asyncio.to_thread(app.services.human_questions.state, question["id"])
            assert state.responded and state.reply is not None and state.reply.content == "Go."

    asyncio.run(scenario())


def test_the_message_box_tells_the_agent_as_cw_tell_does(app: CrosswalkApp, tmp_path: Path) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            agent = await trpc(client, token, "agent.create", {"name": "calm-badger"})
            await trpc(
                client,
                agent["token"],
                "message.askUser",
                {"agentId": agent["id"], "content": "Which port?"},
            )
            csrf = await signed_in(client, token)
            page = (await client.get(f"/agents/{agent['id']}")).text
            assert f'action="/agents/{agent["id"]}/tell"' in page
            assert "calm-badger reads it at its next hook" in page  # it waits for input
            url = f"/agents/{agent['id']}/tell"
            empty = await client.post(
                url, data={"csrf": csrf, "content": "  "}, headers={"origin": ORIGIN}
            )
            assert empty.status_code == 400 and "message" in empty.text
            stale = await client.post(
                url, data={"csrf": "stale", "content": "Hi"}, headers={"origin": ORIGIN}
            )
            assert stale.status_code == 403
            done = await client.post(
                url,
                data={"csrf": csrf, "content": " Use 8080. ", "next": f"/agents/{agent['id']}"},
                headers={"origin": ORIGIN},
            )
            assert done.status_code == 303, done.text
            twin = (await client.get(f"/agents/{agent['id']}.json")).json()
            assert twin["tellDelivery"] == "next_hook"
            assert [(m["senderType"], m["content"], m["status"]) for m in twin["messages"]] == [
                ("agent", "Which port?", "pending"),
                ("user", "Use 8080.", "pending"),
            ]
            page = (await client.get(f"/agents/{agent['id']}")).text
            assert "not read yet: waits for its next hook" in page

            await trpc(client, agent["token"], "agent.checkIn", {
                "agentId": agent["id"], "takeMessages": True
            })  # fmt: skip
            page = (await client.get(f"/agents/{agent['id']}")).text
            assert "handed over" in page and "not read yet" not in page

    asyncio.run(scenario())


def test_committed_changes_reach_the_stream_as_one_event_per_burst(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    token = admin_token(app, tmp_path)
    changes = app.services.changes

    async def scenario() -> list[bytes]:
        received: list[bytes] = []
        stream = live.change_events(changes, lambda: True, keepalive_s=30)
        received.append(await anext(stream))  # connected: catch up at once
        next_event = asyncio.ensure_future(anext(stream))
        async with browser(app) as client:
            await asyncio.sleep(0.01)
            assert not next_event.done()
            await client.get("/trpc/initiative.list", headers={"authorization": f"Bearer {token}"})
            refused = await client.post(
                "/trpc/initiative.create",
                json={"name": ""},
                headers={"authorization": f"Bearer {token}"},
            )
            assert refused.status_code == 400
            await asyncio.sleep(0.1)
            assert not next_event.done()  # a query or a refused write changes nothing
            await trpc(client, token, "initiative.create", {"name": "One"})
            await trpc(client, token, "initiative.create", {"name": "Two"})
            received.append(await asyncio.wait_for(next_event, 5))
        changes.close()
        received.extend([chunk async for chunk in stream])
        return received

    first, change, *rest = asyncio.run(scenario())
    assert first == b"retry: 1000\n\n" + live.change_event("connected")
    assert change == live.change_event("EntityChanged")
    assert rest == []  # the two creates were one event; closing ends the stream


def test_the_stream_keeps_alive_and_ends_with_the_session() -> None:
    from crosswalk.services.change_stream import ChangeStream

    async def scenario() -> list[bytes]:
        signed_in = [True]
        stream = live.change_events(ChangeStream(), lambda: signed_in[0], keepalive_s=0.01)
        chunks = [await anext(stream), await anext(stream)]
        signed_in[0] = False
        chunks.extend([chunk async for chunk in stream])
        return chunks

    _first, keepalive, *rest = asyncio.run(scenario())
    assert keepalive == live.KEEPALIVE
    assert rest == []


def test_a_follower_that_lags_catches_up_and_follows_again() -> None:
    from crosswalk.domain.events import Action, EntityChanged
    from crosswalk.services.change_stream import DEFAULT_MAX_BACKLOG, ChangeStream

    async def scenario() -> list[bytes]:
        changes = ChangeStream()
        stream = live.change_events(changes, lambda: True, keepalive_s=30)
        chunks = [await anext(stream)]
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        flood = [
            EntityChanged("task", str(n), Action.UPDATED) for n in range(DEFAULT_MAX_BACKLOG + 1)
        ]
        changes.publish_committed(flood)
        chunks.append(await asyncio.wait_for(pending, 5))
        await asyncio.sleep(0)
        changes.publish_committed([EntityChanged("task", "x", Action.UPDATED)])
        chunks.append(await asyncio.wait_for(anext(stream), 5))
        changes.close()
        return chunks

    _first, after_lag, later = asyncio.run(scenario())
    assert after_lag == live.change_event("lagged")
    assert later == live.change_event("EntityChanged")


def test_stop_and_resume_call_the_servers_procedures_when_it_has_them(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    """The agent page's buttons appear for the procedures the router offers and call
    them; a server without an agent runner shows neither. An agent with a process
    (running, waiting for input) shows Stop; any other (idle, stopped, crashed) Resume."""
    from starlette.applications import Starlette

    from crosswalk.server.app import build_router
    from crosswalk.server.context import Context
    from crosswalk.server.procedures.agent import AgentRef
    from crosswalk.server.trpc import Router
    from crosswalk.server.web.api import AdminApi
    from crosswalk.server.web.routes import Dashboard
    from crosswalk.services.auth import ADMIN

    token = admin_token(app, tmp_path)
    stopped: list[str] = []
    runner_paths = {"agent.stop", "agent.resume"}
    bare: Router[Context] = Router()
    for procedure in build_router():
        if procedure.path not in runner_paths:
            bare.add(procedure)
    fake_runner: Router[Context] = Router()

    @fake_runner.mutation("agent.stop", input=AgentRef)
    async def stop(ctx: Context, inp: AgentRef) -> dict[str, Any]:
        stopped.append(inp.id)
        return {"id": inp.id}

    admin = Context(principal=ADMIN, services=app.services, runtime=app.runtime)

    def dashboard_on(router: Router[Context]) -> Dashboard:
        return Dashboard(app.services, AdminApi(router, admin), app.runtime.review)

    without_runner = dashboard_on(bare)
    with_stop = dashboard_on(Router[Context]().merge(bare, fake_runner))

    def served(dashboard: Dashboard, cookies: httpx.Cookies) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=Starlette(routes=dashboard.routes()))
        return httpx.AsyncClient(transport=transport, base_url=ORIGIN, cookies=cookies)

    app_dashboard = dashboard_on(build_router())

    async def trpc_as_admin(path: str, payload: Any) -> Any:
        async with browser(app) as client:
            return await trpc(client, token, path, payload)

    async def scenario() -> None:
        async with browser(app) as client:
            agent = await trpc(
                client, token, "agent.create", {"name": "busy-bee", "status": "running"}
            )
            await signed_in(client, token)
            cookies = client.cookies
        async with served(without_runner, cookies) as client:
            plain = (await client.get(f"/agents/{agent['id']}")).text
            assert "/stop" not in plain and "need the server's agent runner" in plain
        async with served(with_stop, cookies) as client:
            page = (await client.get(f"/agents/{agent['id']}")).text
            assert f'action="/agents/{agent["id"]}/stop"' in page
            assert "/resume" not in page  # a running agent is stopped, not resumed
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf is not None
            done = await client.post(
                f"/agents/{agent['id']}/stop", data={"csrf": csrf[1]}, headers={"origin": ORIGIN}
            )
            assert done.status_code == 303
            missing = await client.post(
                f"/agents/{agent['id']}/resume", data={"csrf": csrf[1]}, headers={"origin": ORIGIN}
            )
            assert missing.status_code == 404
        async with served(app_dashboard, cookies) as client:
            for status, shown, hidden in (
                ("idle", "resume", "stop"),
                ("waiting_for_input", "stop", "resume"),
                ("crashed", "resume", "stop"),
            ):
                await trpc_as_admin("agent.update", {"id": agent["id"], "status": status})
                page = (await client.get(f"/agents/{agent['id']}")).text
                assert f'action="/agents/{agent["id"]}/{shown}"' in page, status
                assert f'action="/agents/{agent["id"]}/{hidden}"' not in page, status
        assert stopped == [agent["id"]]

    asyncio.run(scenario())


def test_agents_show_cost_turns_and_duration_from_their_result(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    """An agent no runner started shows its result, with the keys the runner writes."""
    token = admin_token(app, tmp_path)

    async def scenario() -> dict[str, Any]:
        async with browser(app) as client:
            agent = await trpc(client, token, "agent.create", {"name": "done-dove"})
            result = {"numTurns": 12, "totalCostUsd": 1.5, "durationMs": 95_000}
            await trpc(
                client,
                token,
                "agent.update",
                {"id": agent["id"], "status": "stopped", "result": result},
            )
            await signed_in(client, token)
            page = (await client.get("/agents")).text
            assert "$1.50" in page and "1 min" in page
            rows: dict[str, Any] = (await client.get("/agents.json")).json()
            return rows

    [row] = asyncio.run(scenario())["agents"]
    assert (row["costUsd"], row["turns"], row["runningSeconds"]) == (1.5, 12, 95)


def test_an_agents_cost_and_run_time_add_up_over_its_runs(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    """Each run (spawn, resumes) reports its own usage; the agent shows their sums, and
    its run time is the time its runs ran, not the time since it was created."""
    token = admin_token(app, tmp_path)
    usage = app.services.usage
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def two_runs(agent_id: str) -> Agent:
        """The runner's record of two runs (a database thread's work, not the loop's)."""
        agent = app.services.repos.agents.get(agent_id)
        usage.run_started(agent, 1, t0)
        first = Usage(
            cost_usd=0.75, turns=5, duration_ms=120_000, input_tokens=1500,
            output_tokens=800, cache_creation_tokens=2000, cache_read_tokens=30_000,
        )  # fmt: skip
        usage.run_ended(agent, 1, RunEnd.SUCCEEDED, first, t0 + timedelta(minutes=2))
        usage.run_started(agent, 2, t0 + timedelta(hours=5))
        second = Usage(
            cost_usd=0.25, turns=2, duration_ms=60_000, input_tokens=500, output_tokens=200
        )
        usage.run_ended(agent, 2, RunEnd.SUCCEEDED, second, t0 + timedelta(hours=5, minutes=1))
        return agent

    async def scenario() -> tuple[dict[str, Any], str]:
        async with browser(app) as client:
            made = await trpc(client, token, "agent.create", {"name": "busy-bee"})
            agent = await asyncio.to_thread(two_runs, made["id"])
            await trpc(client, token, "agent.update", {"id": agent.id, "status": "stopped"})
            await signed_in(client, token)
            rows: dict[str, Any] = (await client.get("/agents.json")).json()
            page = (await client.get(f"/agents/{agent.id}")).text
            return rows, page

    rows, page = asyncio.run(scenario())
    [row] = rows["agents"]
    assert (row["costUsd"], row["turns"], row["runningSeconds"]) == (1.0, 7, 180)
    assert row["usage"] == {
        "runs": 2, "running": 0, "costUsd": 1.0, "turns": 7, "runSeconds": 180,
        "inputTokens": 2000, "outputTokens": 1000, "cacheCreationTokens": 2000,
        "cacheReadTokens": 30_000,
    }  # fmt: skip
    assert "$1.00" in page and "7 turns" in page and "over 2 runs" in page
    assert "2k in · 1k out · 32k cache" in page


def test_approve_and_retry_move_tasks_on(app: CrosswalkApp, tmp_path: Path) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            initiative = await trpc(client, token, "initiative.create", {"name": "Ship"})
            held = await trpc(
                client,
                token,
                "task.create",
                {"name": "Held", "initiativeId": initiative["id"], "status": "pending_approval"},
            )
            stuck = await trpc(
                client,
                token,
                "task.create",
                {"name": "Stuck", "initiativeId": initiative["id"], "status": "blocked"},
            )
            assert held["status"] == "pending_approval"
            csrf = await signed_in(client, token)
            page = (await client.get(f"/initiatives/{initiative['id']}")).text
            assert f'action="/tasks/{held["id"]}/approve"' in page
            assert f'action="/tasks/{stuck["id"]}/retry"' in page
            assert f'action="/tasks/{stuck["id"]}/approve"' not in page
            for action in (f"/tasks/{held['id']}/approve", f"/tasks/{stuck['id']}/retry"):
                done = await client.post(action, data={"csrf": csrf}, headers={"origin": ORIGIN})
                assert done.status_code == 303, done.text
            again = await client.post(
                f"/tasks/{held['id']}/approve", data={"csrf": csrf}, headers={"origin": ORIGIN}
            )
            assert again.status_code == 412  # only a task waiting for approval
            twin = (await client.get(f"/initiatives/{initiative['id']}.json")).json()
            assert {t["name"]: t["status"] for t in twin["tasks"]} == {
                "Held": "pending",
                "Stuck": "pending",
            }

    asyncio.run(scenario())


def test_conversations_show_how_the_asker_named_the_target(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            initiative = await trpc(client, token, "initiative.create", {"name": "Auth"})
            phase = await trpc(
                client, token, "phase.create", {"initiativeId": initiative["id"], "name": "P"}
            )
            task = await trpc(client, token, "task.create", {"name": "T", "phaseId": phase["id"]})
            asker = await trpc(client, token, "agent.create", {"name": "asker-ant"})
            worker = await trpc(
                client, token, "agent.create", {"name": "worker-bee", "taskId": task["id"]}
            )
            by_task = await trpc(
                client,
                token,
                "conversation.ask",
                {"fromAgentId": asker["id"], "taskId": task["id"], "question": "port?"},
            )
            by_name = await trpc(
                client,
                token,
                "conversation.ask",
                {"fromAgentId": asker["id"], "toAgentId": "worker-bee", "question": "host?"},
            )
            assert (by_task["targetKind"], by_name["targetKind"]) == ("task", "agent")
            assert by_task["toAgentId"] == by_name["toAgentId"] == worker["id"]
            await signed_in(client, token)
            page = (await client.get("/conversations")).text
            assert "asked by task" in page and "asked by agent" in page

    asyncio.run(scenario())


def test_the_task_page_its_twin_and_the_pages_that_link_to_it(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    """The page without git work behind it (no agent yet); tests/browser drives a real
    agent's diff through it."""
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            initiative = await trpc(client, token, "initiative.create", {"name": "Ship"})
            held = await trpc(
                client,
                token,
                "task.create",
                {
                    "name": "Held <b>",
                    "initiativeId": initiative["id"],
                    "status": "pending_approval",
                    "description": "Do <the> thing",
                },
            )
            app.services.human_questions.send(
                NewMessage(
                    sender_type=ParticipantType.USER,
                    recipient_type=ParticipantType.USER,
                    type=MessageType.QUESTION,
                    content="Could not start an agent",
                    requires_response=True,
                    task_id=held["id"],
                )
            )
            csrf = await signed_in(client, token)
            link = f'href="/tasks/{held["id"]}'
            assert link in (await client.get(f"/initiatives/{initiative['id']}")).text
            inbox = (await client.get("/inbox")).text
            assert inbox.count(link) == 2  # the question about it, and the work waiting

            page = await client.get(f"/tasks/{held['id']}")
            assert page.status_code == 200
            assert "Held &lt;b&gt;" in page.text and "Do &lt;the&gt; thing" in page.text
            assert "No agent has worked on this task yet" in page.text
            assert f'action="/tasks/{held["id"]}/approve"' in page.text
            assert "request-changes" not in page.text  # no agent to send it back to
            live = await client.get(f"/tasks/{held['id']}", headers={"hx-request": "true"})
            assert "Approve" in live.text and "Changes" not in live.text  # no git on refresh

            twin = (await client.get(f"/tasks/{held['id']}.json")).json()
            assert twin["task"]["name"] == "Held <b>"
            assert (twin["initiative"]["id"], twin["awaitingApproval"]) == (initiative["id"], True)
            assert twin["diff"]["agent"] is None and twin["diff"]["projects"] == []
            assert twin["usage"]["runs"] == 0

            refused = await client.post(
                f"/tasks/{held['id']}/reject",
                data={"csrf": csrf, "comment": "redo it"},
                headers={"origin": ORIGIN},
            )
            assert refused.status_code == 412 and "no agent worked on it" in refused.text
            nowhere = await client.post(
                f"/initiatives/{initiative['id']}/push",
                data={"csrf": csrf},
                headers={"origin": ORIGIN},
            )
            assert nowhere.status_code == 412 and "no project to push to" in nowhere.text
            cross = await client.post(
                f"/tasks/{held['id']}/reject",
                data={"csrf": csrf, "comment": "x"},
                headers={"origin": "http://evil.example"},
            )
            assert cross.status_code == 403
            missing = await client.get("/tasks/nope")
            assert missing.status_code == 404


def test_answering_runs_and_the_persons_questions_are_shown(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    """The agent page lists its answering runs (what each left uncommitted), the overview
    counts the runs answering now, and a question the person asked says so."""
    token = admin_token(app, tmp_path)
    runs = app.services.repos.answering_runs

    def two_answering_runs(agent_id: str) -> None:
        earlier = runs.start(NewAnsweringRun(agent_id, 2, ["c1"]))
        runs.finish(earlier.id, "answered", ["notes.md"])
        runs.start(NewAnsweringRun(agent_id, 3, ["c2", "c3"]))

    async def scenario() -> None:
        async with browser(app) as client:
            agent = await trpc(client, token, "agent.create", {"name": "wise-owl"})
            await trpc(
                client, token, "conversation.ask", {"toAgentId": "wise-owl", "question": "?"}
            )
            await asyncio.to_thread(two_answering_runs, agent["id"])
            await signed_in(client, token)
            page = (await client.get("/agents/wise-owl")).text
            assert "Answering runs" in page and "answering now" in page
            assert "<code>notes.md</code>" in page
            twin = (await client.get("/agents/wise-owl.json")).json()
            assert [r["sessionNumber"] for r in twin["answeringRuns"]] == [3, 2]
            overview = (await client.get("/overview.json")).json()
            assert overview["answeringRuns"] == 1
            assert "1 answering questions" in (await client.get("/")).text
            assert "the person</span> →" in (await client.get("/conversations")).text

    asyncio.run(scenario())


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def assert_locked_down(response: httpx.Response, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{what}: {name}"
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], what
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, what


def test_every_dashboard_response_forbids_framing_inline_code_and_referrers(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            initiative = await trpc(client, token, "initiative.create", {"name": "Auth"})
            task = await trpc(
                client, token, "task.create", {"name": "t", "initiativeId": initiative["id"]}
            )
            for path in ["/signin", "/", "/static/dashboard.js", "/static/htmx.min.js"]:
                assert_locked_down(await client.get(path), path)
            assert_locked_down(await client.get("/inbox"), "a redirect to sign in")
            assert_locked_down(await client.get("/inbox.json"), "a refusal (401)")
            form = await client.get("/signin")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            refused = await client.post("/signin", data={"token": "x"}, headers={"origin": ORIGIN})
            assert_locked_down(refused, "a refused sign-in")
            await signed_in(client, token)
            pages = ["/", "/agents", "/inbox", "/accounts", "/conversations"]
            pages += [f"/initiatives/{initiative['id']}", f"/tasks/{task['id']}"]
            pages += ["/overview.json", "/nowhere"]
            for path in pages:
                assert_locked_down(await client.get(path), path)
            assert_locked_down(
                await client.get("/inbox", headers={"hx-request": "true"}), "a live region"
            )
            cookie = client.cookies["cw_session"]
        stream = await response_head(app, "/events", f"cw_session={cookie}")
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert_locked_down(stream, "the live stream")

    asyncio.run(scenario())


async def response_head(app: CrosswalkApp, path: str, cookie: str) -> httpx.Response:
    """The status and headers of a response that never ends (the live stream): httpx's
    ASGI transport would wait for its body."""
    started: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client stays
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and not started.done():
            started.set_result(message)

    serving = asyncio.ensure_future(app.asgi(scope, receive, send))
    try:
        head = await asyncio.wait_for(started, 10)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head["headers"]]
    return httpx.Response(head["status"], headers=headers)


def test_the_pages_hold_no_inline_script_or_style(app: CrosswalkApp, tmp_path: Path) -> None:
    """What the policy would refuse in a browser (tests/browser checks the console)."""
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            initiative = await trpc(client, token, "initiative.create", {"name": "Auth"})
            task = await trpc(
                client, token, "task.create", {"name": "t", "initiativeId": initiative["id"]}
            )
            await signed_in(client, token)
            pages = ["/", f"/initiatives/{initiative['id']}", f"/tasks/{task['id']}", "/agents"]
            for path in [*pages, "/signin"]:
                html = (await client.get(path)).text
                assert " style=" not in html and "<style" not in html, path
                assert re.search(r"<script(?![^>]*\ssrc=)", html) is None, path
                assert re.search(r"\son[a-z]+=", html) is None, path
            base = (await client.get("/")).text
            assert '"includeIndicatorStyles":false' in base  # htmx adds no <style> of its own

    asyncio.run(scenario())


def test_the_agents_page_shows_the_server_running_each_agent(
    app: CrosswalkApp, tmp_path: Path
) -> None:
    token = admin_token(app, tmp_path)

    async def scenario() -> None:
        async with browser(app) as client:
            agent = await trpc(client, token, "agent.create", {"name": "far-heron"})
            update = app.services.repos.agents.update
            await asyncio.to_thread(update, agent["id"], {"server_id": "gpu-box-2"})
            await signed_in(client, token)
            page = (await client.get("/agents")).text
            assert "<th>Server</th>" in page
            assert "<td>gpu-box-2</td>" in page
            detail = (await client.get(f"/agents/{agent['id']}")).text
            assert "<dt>Server</dt><dd>gpu-box-2</dd>" in detail

    asyncio.run(scenario())
