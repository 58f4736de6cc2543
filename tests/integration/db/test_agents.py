"""The agent repository against a real SQLite file."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, insert, select

from crosswalk.db.repositories.sqlalchemy import agent as agent_module
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.log_chunk import SqlAlchemyLogChunkRepository
from crosswalk.db.repositories.sqlalchemy.message import SqlAlchemyMessageRepository
from crosswalk.db.repositories.sqlalchemy.proposal import SqlAlchemyProposalRepository
from crosswalk.db.schema import accounts, agents, conversations, initiatives, phases, tasks
from crosswalk.domain.enums import AgentMode, AgentStatus, ParticipantType, ProposalTargetType
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import NewAgent, NewLogChunk, NewMessage, NewProposal
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

ALIAS = re.compile(r"^[a-z]+-[a-z]+$")


def insert_row(engine: Engine, table: Table, **values: Any) -> str:
    """A parent row written with Core, independent of the adapters under test."""
    now = utcnow()
    values.setdefault("id", new_id())
    for stamp in ("created_at", "updated_at"):
        if stamp in table.c:
            values.setdefault(stamp, now)
    with engine.begin() as conn:
        conn.execute(insert(table).values(values))
    return str(values["id"])


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def tick() -> None:
    """Let the millisecond clock move, so ``updated_at`` can."""
    time.sleep(0.003)


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyAgentRepository:
    return SqlAlchemyAgentRepository(engine)


@pytest.fixture
def task_id(engine: Engine) -> str:
    initiative = insert_row(engine, initiatives, name="auth")
    phase = insert_row(engine, phases, initiative_id=initiative, name="build")
    return insert_row(engine, tasks, name="login form", phase_id=phase, initiative_id=initiative)


# --- create --------------------------------------------------------------------


def test_create_stores_the_agent_with_the_schema_defaults(
    repo: SqlAlchemyAgentRepository,
) -> None:
    before = utcnow()
    agent = repo.create(NewAgent(worktree_id="/wt/1", name="brave-otter"))

    assert len(agent.id) == 21
    assert agent.name == "brave-otter"
    assert agent.worktree_id == "/wt/1"
    assert (agent.provider, agent.status, agent.mode) == (
        "claude",
        AgentStatus.IDLE,
        AgentMode.EXECUTE,
    )
    assert agent.task_id is agent.result is agent.pending_questions is agent.token_hash is None
    assert agent.created_at == agent.updated_at
    assert before <= agent.created_at <= utcnow()
    assert agent.created_at.tzinfo is not None
    assert repo.get(agent.id) == agent


def test_create_without_a_name_picks_distinct_adjective_animal_aliases(
    repo: SqlAlchemyAgentRepository,
) -> None:
    names = [repo.create(NewAgent(worktree_id=f"/wt/{i}")).name for i in range(60)]

    assert all(ALIAS.match(name) for name in names), names
    assert len(set(names)) == 60


def scripted_aliases(monkeypatch: pytest.MonkeyPatch, *aliases: str) -> None:
    """Make the alias generator return ``aliases`` in turn, repeating the last."""
    queue: Iterator[str] = iter(aliases)
    last = [aliases[-1]]

    def next_alias() -> str:
        last[0] = next(queue, last[0])
        return last[0]

    monkeypatch.setattr(agent_module, "random_alias", next_alias)


def test_create_retries_when_the_alias_is_taken(
    repo: SqlAlchemyAgentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.create(NewAgent(worktree_id="/wt/1", name="brave-otter"))
    scripted_aliases(monkeypatch, "brave-otter", "brave-otter", "calm-heron")

    assert repo.create(NewAgent(worktree_id="/wt/2")).name == "calm-heron"


def test_create_adds_a_suffix_when_every_retry_collides(
    repo: SqlAlchemyAgentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.create(NewAgent(worktree_id="/wt/1", name="brave-otter"))
    scripted_aliases(monkeypatch, "brave-otter")

    first = repo.create(NewAgent(worktree_id="/wt/2")).name
    second = repo.create(NewAgent(worktree_id="/wt/3")).name

    assert re.match(r"^brave-otter-[0-9a-f]{4}$", first), first
    assert re.match(r"^brave-otter-[0-9a-f]{4}$", second), second
    assert first != second


def test_a_taken_name_is_a_conflict(repo: SqlAlchemyAgentRepository, engine: Engine) -> None:
    repo.create(NewAgent(worktree_id="/wt/1", name="brave-otter"))

    with pytest.raises(ConflictError, match="agent name 'brave-otter' is already taken"):
        repo.create(NewAgent(worktree_id="/wt/2", name="brave-otter"))
    assert count(engine, agents) == 1


def test_a_taken_token_hash_is_a_conflict_not_a_driver_error(
    repo: SqlAlchemyAgentRepository,
) -> None:
    repo.create(NewAgent(worktree_id="/wt/1", token_hash="a" * 64))

    with pytest.raises(ConflictError, match="token_hash"):
        repo.create(NewAgent(worktree_id="/wt/2", token_hash="a" * 64))


@pytest.mark.parametrize(
    ("field", "kind"),
    [("task_id", "task"), ("initiative_id", "initiative"), ("account_id", "account")],
)
def test_create_names_the_missing_reference(
    repo: SqlAlchemyAgentRepository, engine: Engine, field: str, kind: str
) -> None:
    with pytest.raises(NotFoundError) as raised:
        repo.create(NewAgent(worktree_id="/wt/1", **{field: "nope"}))

    assert (raised.value.kind, raised.value.id) == (kind, "nope")
    assert str(raised.value) == f"{kind} 'nope' not found"
    assert count(engine, agents) == 0


def test_create_links_existing_task_initiative_and_account(
    repo: SqlAlchemyAgentRepository, engine: Engine, task_id: str
) -> None:
    initiative = insert_row(engine, initiatives, name="other")
    account = insert_row(engine, accounts, email="a@example.com")

    agent = repo.create(
        NewAgent(worktree_id="/wt", task_id=task_id, initiative_id=initiative, account_id=account)
    )

    assert (agent.task_id, agent.initiative_id, agent.account_id) == (task_id, initiative, account)


# --- finders -------------------------------------------------------------------


def test_each_server_finds_the_agents_it_runs(repo: SqlAlchemyAgentRepository) -> None:
    mine = repo.create(NewAgent(worktree_id="/1", server_id="host-a:7878"))
    tick()
    repo.create(NewAgent(worktree_id="/2", server_id="host-b:7878"))
    repo.create(NewAgent(worktree_id="/3"))  # run by no server (a person's shell)
    tick()
    moved = repo.update(repo.create(NewAgent(worktree_id="/4")).id, {"server_id": "host-a:7878"})

    assert [agent.id for agent in repo.find_by_server_id("host-a:7878")] == [mine.id, moved.id]
    assert repo.find_by_server_id("host-c:7878") == []
    assert repo.get(mine.id).server_id == "host-a:7878"


def test_finders_by_name_session_token_and_status(repo: SqlAlchemyAgentRepository) -> None:
    one = repo.create(NewAgent(worktree_id="/1", name="one", session_id="s1", token_hash="h1"))
    tick()
    two = repo.create(NewAgent(worktree_id="/2", name="two", status=AgentStatus.RUNNING))
    tick()
    three = repo.create(NewAgent(worktree_id="/3", name="three", status=AgentStatus.RUNNING))

    assert repo.find_by_name("two") == two
    assert repo.find_by_name("nobody") is None
    assert repo.find_by_session_id("s1") == one
    assert repo.find_by_session_id("s9") is None
    assert repo.find_by_token_hash("h1") == one
    assert repo.find_by_token_hash("h9") is None
    assert repo.find_by_status(AgentStatus.RUNNING) == [two, three]
    assert repo.find_by_status(AgentStatus.CRASHED) == []
    assert repo.find_all() == [one, two, three]
    assert repo.find_by_id("missing") is None


def test_find_by_task_id_is_most_recently_updated_first(
    repo: SqlAlchemyAgentRepository, task_id: str
) -> None:
    first = repo.create(NewAgent(worktree_id="/1", task_id=task_id))
    second = repo.create(NewAgent(worktree_id="/2", task_id=task_id))
    repo.create(NewAgent(worktree_id="/3"))
    tick()
    first = repo.update(first.id, {"status": AgentStatus.STOPPED})

    assert repo.find_by_task_id(task_id) == [first, second]


def test_find_active_by_task_id_skips_stopped_and_crashed_agents(
    repo: SqlAlchemyAgentRepository, task_id: str
) -> None:
    made = {
        status: repo.create(NewAgent(worktree_id=f"/{status}", task_id=task_id, status=status))
        for status in AgentStatus
    }
    tick()
    idle = repo.update(made[AgentStatus.IDLE].id, {"pid": 42})

    active = repo.find_active_by_task_id(task_id)

    assert active[0] == idle
    assert {agent.status for agent in active} == {
        AgentStatus.IDLE,
        AgentStatus.RUNNING,
        AgentStatus.WAITING_FOR_INPUT,
    }
    assert repo.find_active_by_task_id("other-task") == []


def test_workers_in_phase_follow_the_agents_task_to_its_phase(
    repo: SqlAlchemyAgentRepository, engine: Engine, task_id: str
) -> None:
    with engine.connect() as conn:
        phase_id, initiative_id = conn.execute(
            select(tasks.c.phase_id, tasks.c.initiative_id).where(tasks.c.id == task_id)
        ).one()
    sibling = insert_row(engine, tasks, name="sibling", phase_id=phase_id)
    other_phase = insert_row(engine, phases, initiative_id=initiative_id, name="later")
    elsewhere = insert_row(engine, tasks, name="elsewhere", phase_id=other_phase)
    on_task = repo.create(NewAgent(worktree_id="/1", task_id=task_id))
    on_sibling = repo.create(NewAgent(worktree_id="/2", task_id=sibling))
    repo.create(NewAgent(worktree_id="/3", task_id=sibling, status=AgentStatus.CRASHED))
    repo.create(NewAgent(worktree_id="/4", task_id=elsewhere))
    repo.create(NewAgent(worktree_id="/5", initiative_id=initiative_id))
    tick()
    on_task = repo.update(on_task.id, {"status": AgentStatus.RUNNING})

    in_phase = repo.workers_in_phase(phase_id)
    assert in_phase is not None
    assert in_phase.agents == [on_task, on_sibling]
    assert (in_phase.phase_id, in_phase.initiative_id) == (phase_id, initiative_id)
    later = repo.workers_in_phase(other_phase)
    assert later is not None and later.agents[0].task_id == elsewhere


# --- JSON columns --------------------------------------------------------------


def test_result_and_pending_questions_round_trip_as_json_values(
    repo: SqlAlchemyAgentRepository, engine: Engine
) -> None:
    agent = repo.create(NewAgent(worktree_id="/wt"))
    result = {"success": True, "message": "done", "files": ["a.py", "b.py"], "n": 1.5}
    questions = [{"id": "q1", "question": "Which DB?", "options": [{"label": "SQLite"}]}]

    updated = repo.update(agent.id, {"result": result, "pending_questions": questions})

    assert updated.result == result
    assert updated.pending_questions == questions
    assert repo.get(agent.id).pending_questions == questions
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT result FROM agents").scalar_one()
    assert isinstance(stored, str)
    assert json.loads(stored) == result
    cleared = repo.update(agent.id, {"result": None})
    assert cleared.result is None
    assert cleared.pending_questions == questions


# --- update --------------------------------------------------------------------


def test_update_changes_fields_and_moves_updated_at(repo: SqlAlchemyAgentRepository) -> None:
    agent = repo.create(NewAgent(worktree_id="/wt", name="old"))
    tick()
    dismissed = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

    updated = repo.update(
        agent.id,
        {
            "name": "new",
            "status": AgentStatus.CRASHED,
            "exit_code": 1,
            "user_dismissed_at": dismissed,
        },
    )

    assert (updated.name, updated.status, updated.exit_code) == ("new", AgentStatus.CRASHED, 1)
    assert updated.user_dismissed_at == dismissed
    assert updated.created_at == agent.created_at
    assert updated.updated_at > agent.updated_at
    assert repo.get(agent.id) == updated


def test_an_empty_update_returns_the_row_unchanged(repo: SqlAlchemyAgentRepository) -> None:
    agent = repo.create(NewAgent(worktree_id="/wt"))
    tick()

    assert repo.update(agent.id, {}) == agent
    assert repo.get(agent.id).updated_at == agent.updated_at


def test_renaming_to_a_taken_name_is_a_conflict_and_keeping_ones_own_is_not(
    repo: SqlAlchemyAgentRepository,
) -> None:
    repo.create(NewAgent(worktree_id="/1", name="taken"))
    agent = repo.create(NewAgent(worktree_id="/2", name="mine"))

    with pytest.raises(ConflictError, match="agent name 'taken' is already taken"):
        repo.update(agent.id, {"name": "taken"})
    assert repo.update(agent.id, {"name": "mine", "pid": 7}).pid == 7
    assert repo.get(agent.id).name == "mine"


def test_update_names_a_missing_task(repo: SqlAlchemyAgentRepository) -> None:
    agent = repo.create(NewAgent(worktree_id="/wt"))

    with pytest.raises(NotFoundError, match="task 'ghost' not found"):
        repo.update(agent.id, {"task_id": "ghost"})
    assert repo.get(agent.id).task_id is None


def test_unknown_ids_are_not_found(repo: SqlAlchemyAgentRepository) -> None:
    for call in (
        lambda: repo.get("nope"),
        lambda: repo.update("nope", {"pid": 1}),
        lambda: repo.update("nope", {}),
        lambda: repo.delete("nope"),
    ):
        with pytest.raises(NotFoundError) as raised:
            call()
        assert (raised.value.kind, raised.value.id) == ("agent", "nope")


# --- list_page -----------------------------------------------------------------


def test_list_page_walks_every_agent_once_in_creation_order(
    repo: SqlAlchemyAgentRepository,
) -> None:
    made = [repo.create(NewAgent(worktree_id=f"/{i}")) for i in range(7)]

    seen, cursor, pages = [], None, 0
    while True:
        page = repo.list_page(limit=3, cursor=cursor)
        seen += page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == 3
    assert seen == sorted(made, key=lambda agent: (agent.created_at, agent.id))


def test_list_page_filters(repo: SqlAlchemyAgentRepository, task_id: str) -> None:
    running = repo.create(NewAgent(worktree_id="/1", status=AgentStatus.RUNNING, task_id=task_id))
    repo.create(NewAgent(worktree_id="/2", task_id=task_id))
    repo.create(NewAgent(worktree_id="/3", status=AgentStatus.RUNNING))

    page = repo.list_page(status=AgentStatus.RUNNING, task_id=task_id)

    assert page.items == [running]
    assert page.next_cursor is None


# --- delete --------------------------------------------------------------------


def test_delete_reports_what_went_with_the_agent(
    repo: SqlAlchemyAgentRepository, engine: Engine
) -> None:
    initiative = insert_row(engine, initiatives, name="i")
    doomed = repo.create(NewAgent(worktree_id="/1"))
    peer = repo.create(NewAgent(worktree_id="/2"))
    for asker, answerer in ((doomed, peer), (peer, doomed), (peer, doomed)):
        insert_row(
            engine,
            conversations,
            from_agent_id=asker.id,
            to_agent_id=answerer.id,
            question="?",
        )
    proposals = SqlAlchemyProposalRepository(engine)
    for title in ("a", "b"):
        proposals.create(NewProposal(doomed.id, initiative, ProposalTargetType.TASK, title))
    messages = SqlAlchemyMessageRepository(engine)
    messages.create(
        NewMessage(ParticipantType.AGENT, ParticipantType.USER, "hi", sender_id=doomed.id)
    )
    messages.create(
        NewMessage(ParticipantType.USER, ParticipantType.AGENT, "yo", recipient_id=doomed.id)
    )
    logs = SqlAlchemyLogChunkRepository(engine)
    for _ in range(3):
        logs.insert_chunk(NewLogChunk(doomed.id, doomed.name, "{}"))

    removal = repo.delete(doomed.id)

    assert removal == {
        "conversations": 3,
        "proposals": 2,
        "messagesDetached": 2,
        "logChunksKept": 3,
    }
    assert repo.find_by_id(doomed.id) is None
    assert repo.get(peer.id) == peer


def test_timestamps_are_utc_milliseconds(repo: SqlAlchemyAgentRepository) -> None:
    agent = repo.create(NewAgent(worktree_id="/wt"))

    assert agent.created_at.utcoffset() == timedelta(0)
    assert agent.created_at.microsecond % 1000 == 0
