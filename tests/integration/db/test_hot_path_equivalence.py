"""The hot path (``HotStatement`` compiled once, run on the driver connection) returns
exactly what plain SQLAlchemy returns for the same statement and values: every hot
statement, run both ways, outside and inside a unit of work, rows compared field by
field (enums, timestamps and JSON converted alike)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Any

import pytest
from sqlalchemy import Engine

from crosswalk.db import Repositories
from crosswalk.db.repositories.sqlalchemy import agent as agent_adapter
from crosswalk.db.repositories.sqlalchemy import conversation as conversation_adapter
from crosswalk.db.repositories.sqlalchemy import message as message_adapter
from crosswalk.db.repositories.sqlalchemy import ownership as ownership_adapter
from crosswalk.db.repositories.sqlalchemy import phase as phase_adapter
from crosswalk.db.repositories.sqlalchemy import task as task_adapter
from crosswalk.db.repositories.sqlalchemy._base import SqlAlchemyRepository
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.transaction import current_connection
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.enums import (
    AgentStatus,
    ConversationStatus,
    MessageType,
    ParticipantType,
    TargetKind,
)
from crosswalk.domain.rows import (
    Agent,
    Conversation,
    FileChange,
    Message,
    NewAgent,
    NewConversation,
    NewInitiative,
    NewMessage,
    NewPhase,
    NewTask,
    OverlapNotice,
    Phase,
    Task,
)
from crosswalk.domain.timestamps import utcnow

HOT_MODULES = (
    agent_adapter,
    conversation_adapter,
    task_adapter,
    phase_adapter,
    message_adapter,
    ownership_adapter,
)


def _hot_statements() -> set[str]:
    return {
        f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
        for module in HOT_MODULES
        for name, value in vars(module).items()
        if isinstance(value, HotStatement)
    }


@pytest.fixture
def seeded(repos: Repositories) -> dict[str, Any]:
    alice = repos.agents.create(NewAgent(name="alice", worktree_id=".", token_hash="h" * 64))
    bob = repos.agents.create(NewAgent(name="bob", worktree_id="."))
    # JSON columns, so their conversion is compared too
    bob = repos.agents.update(bob.id, {"result": {"ok": [1, 2]}, "pending_questions": []})
    asked = [
        repos.conversations.create(
            NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question=f"q{i}")
        )
        for i in range(3)
    ]
    repos.conversations.answer(asked[0].id, "done")
    for text in ("use port 8080", "and log in JSON"):  # what the person told bob
        repos.messages.create(
            NewMessage(ParticipantType.USER, ParticipantType.AGENT, text, recipient_id=bob.id)
        )
    # Asking by task or phase: a phase with two tasks; two active agents and a stopped
    # one work them (so the status filter and the newest-first order are compared too).
    initiative = repos.initiatives.create(NewInitiative(name="ship"))
    phase = repos.phases.create(NewPhase(initiative_id=initiative.id, name="build"))
    task = repos.tasks.create(NewTask(name="api", phase_id=phase.id, initiative_id=initiative.id))
    other = repos.tasks.create(NewTask(name="ui", phase_id=phase.id, initiative_id=initiative.id))
    carol = repos.agents.create(NewAgent(name="carol", worktree_id=".", task_id=task.id))
    # The person waits on carol; bob waits on the person (a question to the user).
    repos.conversations.create(
        NewConversation(from_agent_id=None, to_agent_id=carol.id, question="from the person")
    )
    repos.messages.create(
        NewMessage(
            sender_type=ParticipantType.AGENT,
            sender_id=bob.id,
            recipient_type=ParticipantType.USER,
            type=MessageType.QUESTION,
            content="Postgres or SQLite?",
            requires_response=True,
        )
    )
    dave = repos.agents.create(NewAgent(name="dave", worktree_id=".", task_id=task.id))
    repos.agents.update(dave.id, {"status": AgentStatus.RUNNING})
    erin = repos.agents.create(NewAgent(name="erin", worktree_id=".", task_id=other.id))
    repos.agents.update(erin.id, {"status": AgentStatus.STOPPED})
    empty = repos.phases.create(NewPhase(initiative_id=initiative.id, name="later"))
    # Asking by file: two agents' work changed one file, one of them merged (JSON lines,
    # booleans and a task's name and phase joined in); one is told of the other.
    now = utcnow()
    for who, merged, lines in ((dave, False, ((1, 2), (5, 5))), (erin, True, ())):
        change = FileChange(who.id, merged, "src/a.py", initiative.id, who.task_id, lines, now)
        repos.ownership.replace_changes(who.id, merged=merged, changes=[change])
    repos.ownership.add_notices(
        [OverlapNotice(dave.id, erin.id, "src/a.py", initiative.id, now, None)]
    )
    return {
        "initiative": initiative,
        "dave": dave,
        "alice": alice,
        "bob": bob,
        "asked": asked,
        "task": task,
        "other_task": other,
        "phase": phase,
        "empty_phase": empty,
    }


def _read_cases(seeded: dict[str, Any]) -> list[tuple[str, HotStatement, dict[str, Any], type]]:
    alice, bob, asked = seeded["alice"], seeded["bob"], seeded["asked"]
    return [
        ("agent.BY_ID", agent_adapter.BY_ID, {"id": bob.id}, Agent),
        ("agent.BY_ID", agent_adapter.BY_ID, {"id": "missing"}, Agent),
        ("agent.BY_NAME", agent_adapter.BY_NAME, {"name": "alice"}, Agent),
        ("agent.BY_TOKEN_HASH", agent_adapter.BY_TOKEN_HASH, {"token_hash": "h" * 64}, Agent),
        ("conversation.BY_ID", conversation_adapter.BY_ID, {"id": asked[0].id}, Conversation),
        ("conversation.BY_ID", conversation_adapter.BY_ID, {"id": asked[1].id}, Conversation),
        (
            "conversation.PENDING_FOR_AGENT",
            conversation_adapter.PENDING_FOR_AGENT,
            {"agent_id": bob.id},
            Conversation,
        ),
        ("conversation.WAITS_OF", conversation_adapter.WAITS_OF, {"agent_id": alice.id}, tuple),
        ("conversation.WAITS_OF", conversation_adapter.WAITS_OF, {"agent_id": bob.id}, tuple),
        ("conversation.PERSON_WAITS", conversation_adapter.PERSON_WAITS, {}, tuple),
        (
            "conversation.PENDING_PAGE_FOR_AGENT",
            conversation_adapter.PENDING_PAGE_FOR_AGENT,
            {"agent_id": bob.id, "limit": 1},
            Conversation,
        ),
        (
            "conversation.PENDING_PAGE_FOR_AGENT",
            conversation_adapter.PENDING_PAGE_FOR_AGENT,
            {"agent_id": bob.id, "limit": 50},
            Conversation,
        ),
        (
            "conversation.COUNT_PENDING_BETWEEN",
            conversation_adapter.COUNT_PENDING_BETWEEN,
            {"from_agent_id": alice.id, "to_agent_id": bob.id},
            tuple,
        ),
        (
            "message.PENDING_FROM_USER",
            message_adapter.PENDING_FROM_USER,
            {"agent_id": bob.id},
            Message,
        ),
        (
            "message.PENDING_FROM_USER",
            message_adapter.PENDING_FROM_USER,
            {"agent_id": alice.id},
            Message,
        ),
        ("task.BY_ID", task_adapter.BY_ID, {"id": seeded["task"].id}, Task),
        ("task.BY_ID", task_adapter.BY_ID, {"id": "missing"}, Task),
        ("phase.BY_ID", phase_adapter.BY_ID, {"id": seeded["phase"].id}, Phase),
        ("phase.BY_ID", phase_adapter.BY_ID, {"id": "missing"}, Phase),
        (
            "agent.ACTIVE_BY_TASK",
            agent_adapter.ACTIVE_BY_TASK,
            {"task_id": seeded["task"].id},
            Agent,
        ),
        ("agent.ACTIVE_BY_TASK", agent_adapter.ACTIVE_BY_TASK, {"task_id": "missing"}, Agent),
        # by id; by name, with the task's phase and initiative joined in; nobody
        ("agent.LOCATE", agent_adapter.LOCATE, {"key": bob.id}, tuple),
        ("agent.LOCATE", agent_adapter.LOCATE, {"key": "dave"}, tuple),
        ("agent.LOCATE", agent_adapter.LOCATE, {"key": "missing"}, tuple),
        # active agents newest first; only a stopped one (a row without an agent); no task
        (
            "agent.WORKERS_OF_TASK",
            agent_adapter.WORKERS_OF_TASK,
            {"task_id": seeded["task"].id},
            tuple,
        ),
        (
            "agent.WORKERS_OF_TASK",
            agent_adapter.WORKERS_OF_TASK,
            {"task_id": seeded["other_task"].id},
            tuple,
        ),
        ("agent.WORKERS_OF_TASK", agent_adapter.WORKERS_OF_TASK, {"task_id": "missing"}, tuple),
        (
            "agent.WORKERS_IN_PHASE",
            agent_adapter.WORKERS_IN_PHASE,
            {"phase_id": seeded["phase"].id},
            tuple,
        ),
        (
            "agent.WORKERS_IN_PHASE",
            agent_adapter.WORKERS_IN_PHASE,
            {"phase_id": seeded["empty_phase"].id},
            tuple,
        ),
        ("agent.WORKERS_IN_PHASE", agent_adapter.WORKERS_IN_PHASE, {"phase_id": "missing"}, tuple),
        (
            "ownership.OWNERS_IN",
            ownership_adapter.OWNERS_IN,
            {"path": "src/a.py", "initiative_id": seeded["initiative"].id},
            tuple,
        ),
        ("ownership.OWNERS_ANYWHERE", ownership_adapter.OWNERS_ANYWHERE, {"path": "b"}, tuple),
        (
            "ownership.OWNERS_ANYWHERE",
            ownership_adapter.OWNERS_ANYWHERE,
            {"path": "src/a.py"},
            tuple,
        ),
        (
            "ownership.UNDELIVERED_NOTICES",
            ownership_adapter.UNDELIVERED_NOTICES,
            {"agent_id": seeded["dave"].id},
            OverlapNotice,
        ),
    ]


def _write_values(seeded: dict[str, Any], id: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": id,
        "from_agent_id": seeded["alice"].id,
        "to_agent_id": seeded["bob"].id,
        "initiative_id": None,
        "phase_id": None,
        "task_id": None,
        "question": "which port?",
        "answer": None,
        "status": ConversationStatus.PENDING,
        "abandoned_reason": None,
        "target_kind": TargetKind.TASK,
        "created_at": now,
        "updated_at": now,
    }


def _fast(
    repo: SqlAlchemyRepository, statement: HotStatement, values: dict[str, Any], write: bool
) -> list[list[Any]]:
    with repo._direct(write=write) as db:
        return db.all(statement, values)


def _plain(engine: Engine, statement: HotStatement, values: dict[str, Any]) -> list[list[Any]]:
    joined = current_connection(engine)  # inside a unit of work: its transaction
    if joined is not None:
        return [list(row) for row in joined.execute(statement.statement, values)]
    with engine.begin() as conn:
        return [list(row) for row in conn.execute(statement.statement, values)]


@pytest.fixture(params=["own transaction", "inside a unit of work"])
def placement(request: pytest.FixtureRequest, engine: Engine) -> Iterator[str]:
    if request.param == "own transaction":
        yield request.param
        return
    with SqlAlchemyUnitOfWork(engine):
        yield request.param


def _field_types(row: Any) -> list[type]:
    return [type(getattr(row, field.name)) for field in fields(row)]


def test_every_hot_statement_has_a_case(seeded: dict[str, Any]) -> None:
    covered = {name for name, *_ in _read_cases(seeded)} | {
        "conversation.INSERT",
        "conversation.ANSWER",
        "conversation.ABANDON",
    }
    assert covered == _hot_statements()


def test_hot_reads_return_what_plain_sqlalchemy_returns(
    engine: Engine, repos: Repositories, seeded: dict[str, Any], placement: str
) -> None:
    repo = repos.conversations
    assert isinstance(repo, SqlAlchemyRepository)
    for name, statement, values, model in _read_cases(seeded):
        fast = _fast(repo, statement, values, write=False)
        plain = _plain(engine, statement, values)
        assert fast == plain, name
        # and of the same types (a StrEnum equals its string, so compare types too)
        assert [list(map(type, row)) for row in fast] == [list(map(type, row)) for row in plain]
        if model is not tuple:
            # and through the repository's row building (_select), as the methods use it,
            # field types included
            built = repo._select(model, statement, values)
            expected = [model(*row) for row in plain]
            assert built == expected, name
            assert list(map(_field_types, built)) == list(map(_field_types, expected)), name


def test_hot_writes_return_what_plain_sqlalchemy_returns(
    engine: Engine, repos: Repositories, seeded: dict[str, Any], placement: str
) -> None:
    repo = repos.conversations
    assert isinstance(repo, SqlAlchemyRepository)
    insert = conversation_adapter.INSERT
    fast = Conversation(*_fast(repo, insert, _write_values(seeded, "fast"), write=True)[0])
    plain = Conversation(*_plain(engine, insert, _write_values(seeded, "plain"))[0])
    assert {**asdict(fast), "id": None, "created_at": None, "updated_at": None} == {
        **asdict(plain),
        "id": None,
        "created_at": None,
        "updated_at": None,
    }
    assert list(map(type, asdict(fast).values())) == list(map(type, asdict(plain).values()))
    assert repos.conversations.get("fast") == fast

    answer = conversation_adapter.ANSWER
    answered_at = utcnow()
    # addressed to someone else: no row, both ways
    wrong = {"answered_id": "fast", "addressed_to": fast.from_agent_id, "answer_text": "x"}
    wrong["answered_at"] = answered_at
    assert _fast(repo, answer, wrong, write=True) == _plain(engine, answer, wrong) == []
    fast_answer = _fast(
        repo,
        answer,
        {
            "answered_id": "fast",
            "addressed_to": fast.to_agent_id,
            "answer_text": "443",
            "answered_at": answered_at,
        },
        write=True,
    )
    plain_answer = _plain(  # an administrator's answer: to whoever it is addressed
        engine,
        answer,
        {
            "answered_id": "plain",
            "addressed_to": None,
            "answer_text": "443",
            "answered_at": answered_at,
        },
    )
    fast_row, plain_row = Conversation(*fast_answer[0]), Conversation(*plain_answer[0])
    assert fast_row.status is ConversationStatus.ANSWERED
    assert asdict(fast_row) == {
        **asdict(plain_row),
        "id": "fast",
        "created_at": fast.created_at,
    }
    # a second answer matches no row, both ways
    again = {"answered_id": "fast", "addressed_to": None, "answer_text": "x"}
    again["answered_at"] = answered_at
    assert _fast(repo, answer, again, write=True) == _plain(engine, answer, again) == []

    # abandoning: bob's pending questions one way, one to alice the other
    back = {**_write_values(seeded, "back"), "from_agent_id": seeded["bob"].id}
    back["target_kind"] = None  # like the seeded questions, so the rows compare alike
    _plain(engine, insert, {**back, "to_agent_id": seeded["alice"].id})
    abandon = conversation_adapter.ABANDON
    at = utcnow()
    fast_gone = _fast(
        repo, abandon, {"asked_id": seeded["bob"].id, "reason": "crashed", "abandoned_at": at},
        write=True,
    )  # fmt: skip
    plain_gone = _plain(
        engine, abandon, {"asked_id": seeded["alice"].id, "reason": "crashed", "abandoned_at": at}
    )
    fast_rows = [Conversation(*row) for row in fast_gone]
    [plain_row] = [Conversation(*row) for row in plain_gone]
    assert sorted(row.id for row in fast_rows) == sorted(c.id for c in seeded["asked"][1:])
    for row in (*fast_rows, plain_row):
        assert (row.status, row.abandoned_reason, row.updated_at) == (
            ConversationStatus.ABANDONED,
            "crashed",
            at,
        )
        assert list(map(type, asdict(row).values())) == list(map(type, asdict(plain_row).values()))


def test_the_resolution_statements_find_the_active_agents_newest_first(
    repos: Repositories, seeded: dict[str, Any]
) -> None:
    """The cases above are not vacuous: by task and by phase, the stopped agent is left
    out and the most recently updated comes first."""
    by_task = repos.agents.find_active_by_task_id(seeded["task"].id)
    in_phase = repos.agents.workers_in_phase(seeded["phase"].id)
    assert in_phase is not None
    by_phase = in_phase.agents
    assert (
        [agent.name for agent in by_task]
        == [agent.name for agent in by_phase]
        == [
            "dave",
            "carol",
        ]
    )


def test_the_one_read_resolution_finds_what_the_separate_reads_find(
    repos: Repositories, seeded: dict[str, Any]
) -> None:
    """Asking by agent, task or phase reads one statement each; it agrees with the
    separate reads it replaces, on hits and misses alike."""
    agents, task, phase = repos.agents, seeded["task"], seeded["phase"]
    dave = agents.find_by_name("dave")
    assert dave is not None
    for key in (dave.id, "dave"):
        located = agents.locate(key)
        assert located is not None and located.agent == dave
        assert (located.task_phase_id, located.task_initiative_id) == (
            phase.id,
            phase.initiative_id,
        )
    bob = agents.locate(seeded["bob"].id)
    assert bob is not None and (bob.agent, bob.task_phase_id, bob.task_initiative_id) == (
        seeded["bob"],
        None,
        None,
    )
    assert agents.locate("missing") is None

    workers = agents.workers_of_task(task.id)
    assert workers is not None
    assert workers.agents == agents.find_active_by_task_id(task.id)
    assert [agent.name for agent in workers.agents] == ["dave", "carol"]
    assert (workers.phase_id, workers.initiative_id) == (task.phase_id, task.initiative_id)
    stopped_only = agents.workers_of_task(seeded["other_task"].id)
    assert stopped_only is not None and stopped_only.agents == []
    assert agents.workers_of_task("missing") is None

    in_phase = agents.workers_in_phase(phase.id)
    assert in_phase is not None
    assert in_phase.agents == workers.agents  # the phase's other task has a stopped agent
    assert (in_phase.phase_id, in_phase.initiative_id) == (phase.id, phase.initiative_id)
    empty = agents.workers_in_phase(seeded["empty_phase"].id)
    assert empty is not None and empty.agents == []
    assert agents.workers_in_phase("missing") is None


def test_an_id_match_wins_over_a_name_match(repos: Repositories) -> None:
    """``locate`` reads an agent by id or by name in one statement: when one agent's
    name is another's id, the id match is the one asked, as a read by id first did."""
    first = repos.agents.create(NewAgent(name="first", worktree_id="."))
    named_like_it = repos.agents.create(NewAgent(name=first.id, worktree_id="."))
    located = repos.agents.locate(first.id)
    assert located is not None and located.agent == first
    by_name = repos.agents.locate("first")
    assert by_name is not None and by_name.agent == first
    assert named_like_it.name == first.id


def test_the_page_and_count_statements_are_not_vacuous(
    repos: Repositories, seeded: dict[str, Any]
) -> None:
    """Two of the three questions to bob are pending: a page of one holds the first of
    them in the unpaged order, and the per-pair count sees both."""
    alice, bob, asked = seeded["alice"], seeded["bob"], seeded["asked"]
    everything = repos.conversations.find_pending_for_agent(bob.id)
    assert {c.id for c in everything} == {asked[1].id, asked[2].id}
    page = repos.conversations.find_pending_for_agent(bob.id, limit=1)
    assert page == everything[:1]
    assert repos.conversations.count_pending_between(alice.id, bob.id) == 2
