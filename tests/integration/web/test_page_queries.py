"""Each dashboard page reads what it shows in a fixed number of SQL statements, however
many tasks, agents, conversations and questions there are: the statements a page runs
are counted over a small and a large fleet, and must be the same. Two counts: what passes
SQLAlchemy's ``before_cursor_execute``, and every statement SQLite itself runs (the hot
path's prepared statements go to the driver directly, and BEGIN and COMMIT count too)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from crosswalk.domain.enums import AgentStatus, ParticipantType, RunEnd, TaskStatus
from crosswalk.domain.rows import (
    MergePreview,
    NewAccount,
    NewAgent,
    NewAnsweringRun,
    NewInitiative,
    NewMessage,
    NewPhase,
    NewTask,
    PathChange,
)
from crosswalk.domain.targets import AgentTarget
from crosswalk.domain.usage import Usage
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.services.ownership import OwnershipService

ORIGIN = "http://127.0.0.1"
SMALL, LARGE = 2, 40
USER, AGENT = ParticipantType.USER, ParticipantType.AGENT


def fill(app: CrosswalkApp, n: int) -> dict[str, str]:
    """An initiative of ``n`` tasks in two phases, ``n`` running agents (one per task, with
    an account, two logged sessions, a run, a question to the person and a message from
    the person), all sharing one file and asking the first agent a question; ``n`` earlier
    agents on the first task, each with a run and a request for changes; ``n`` answering
    runs of the first agent. Returns the ids the pages need."""
    services = app.services
    planning = services.planning
    initiative = planning.create_initiative(NewInitiative(name="Checkout"))
    other = planning.create_initiative(NewInitiative(name="Search"))
    first = planning.create_phase(NewPhase(initiative_id=initiative.id, name="build"))
    second = planning.create_phase(NewPhase(initiative_id=initiative.id, name="ship"))
    planning.add_phase_dependency(second.id, first.id)
    planning.create_task(NewTask(name="index", initiative_id=other.id))
    ownership = OwnershipService(services.repos.ownership, services.unit_of_work)
    tasks, agents = [], []
    at = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(n):
        phase = first if i < n // 2 else second
        task = planning.create_task(
            NewTask(name=f"task-{i}", phase_id=phase.id, order=i, status=TaskStatus.IN_PROGRESS)
        )
        if tasks:
            planning.add_task_dependency(task.id, tasks[-1].id)
        tasks.append(task)
        account = services.accounts.create(NewAccount(email=f"a{i}@example.com"))
        agent = services.agents.create(
            NewAgent(
                worktree_id=f"wt-{i}",
                name=f"agent-{i}",
                task_id=task.id,
                initiative_id=initiative.id,
                account_id=account.id,
                status=AgentStatus.RUNNING,
            )
        )
        agents.append(agent)
        for session in (1, 2):
            services.logs.append(agent, '{"type":"assistant"}', session)
        services.usage.run_started(agent, 1, at)
        services.usage.run_ended(agent, 1, RunEnd.SUCCEEDED, Usage(cost_usd=0.5, turns=3), at)
        services.human_questions.ask(agent.id, f"question {i}?")
        services.human_questions.tell(agent.id, f"note {i}", handed_over=False)
        ownership.record_work(agent, initiative.id, [PathChange("src/shared.py")])
    for asker in agents[1:]:
        services.conversations.ask(asker.id, "which port?", AgentTarget(agents[0].id))
    for i in range(n):  # earlier attempts at the first task, each told what to change
        earlier = services.agents.create(
            NewAgent(worktree_id=f"old-{i}", name=f"earlier-{i}", task_id=tasks[0].id,
                     status=AgentStatus.CRASHED)
        )  # fmt: skip
        services.usage.run_started(earlier, 1, at)
        services.human_questions.send(
            NewMessage(USER, AGENT, f"change {i}", recipient_id=earlier.id, task_id=tasks[0].id)
        )
        services.repos.answering_runs.start(NewAnsweringRun(agents[0].id, i + 3, []))
    ownership.record_preview(
        MergePreview(agents[0].id, agents[1].id, initiative.id, True, ("src/shared.py",), at)
    )
    planning.update_task(tasks[0].id, {"status": TaskStatus.PENDING_APPROVAL})
    return {"initiative": initiative.id, "task": tasks[0].id, "agent": agents[0].id}


def page_paths(ids: dict[str, str]) -> list[str]:
    return [
        "/",
        "/agents",
        f"/agents/{ids['agent']}",
        f"/initiatives/{ids['initiative']}",
        f"/tasks/{ids['task']}",
        "/inbox",
        "/conversations",
        "/accounts",
    ]


def count_statements(app: CrosswalkApp, token: str, paths: list[str]) -> dict[str, int]:
    """The SQL statements each page (its HTML, then its live refresh) runs: by SQLite
    (``name``) and through SQLAlchemy (``name [sqlalchemy]``)."""
    counts: dict[str, int] = {}
    current: list[str] = []

    def counted(*_args: Any) -> None:
        if current:
            counts[current[0]] = counts.get(current[0], 0) + 1

    def executed(*_args: Any) -> None:
        if current:
            name = f"{current[0]} [sqlalchemy]"
            counts[name] = counts.get(name, 0) + 1

    def traced(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(counted)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app.asgi)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            form = await client.get("/signin")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            signed = await client.post(
                "/signin",
                data={"csrf": csrf[1], "token": token, "next": "/"},
                headers={"origin": ORIGIN},
            )
            assert signed.status_code == 303
            for path in paths:
                for live in (False, True):
                    current[:] = [f"{path} ({'live' if live else 'page'})"]
                    headers = {"hx-request": "true"} if live else {}
                    page = await client.get(path, headers=headers)
                    assert page.status_code == 200, (path, page.text)
                current.clear()

    # Counted by SQLite itself: the hot path's prepared statements run on the driver
    # connection and so never pass SQLAlchemy's ``before_cursor_execute``. Every
    # connection is opened anew, so each one is traced.
    app.engine.dispose()
    event.listen(app.engine, "connect", traced)
    event.listen(app.engine, "before_cursor_execute", executed)
    try:
        asyncio.run(scenario())
    finally:
        event.remove(app.engine, "connect", traced)
        event.remove(app.engine, "before_cursor_execute", executed)
    return counts


def test_every_page_reads_in_as_many_statements_whatever_the_row_count(tmp_path: Path) -> None:
    by_size = {}
    for n in (SMALL, LARGE):
        folder = tmp_path / str(n)
        folder.mkdir()
        app = create_app(f"sqlite:///{folder / 'cw.db'}", admin_token_file=folder / "admin-token")
        try:
            ids = fill(app, n)
            token = (folder / "admin-token").read_text().strip()
            counts = count_statements(app, token, page_paths(ids))
            # The same page names for both sizes: strip the ids.
            by_size[n] = {_shape(name, ids): count for name, count in counts.items()}
        finally:
            app.services.changes.close()
            app.engine.dispose()
    for name in sorted(by_size[SMALL]):
        print(f"{name:<28} {by_size[SMALL][name]:>4} {by_size[LARGE][name]:>4}")
    assert by_size[SMALL] == by_size[LARGE]


def _shape(name: str, ids: dict[str, str]) -> str:
    for key, value in ids.items():
        name = name.replace(value, "{" + key + "}")
    return name
