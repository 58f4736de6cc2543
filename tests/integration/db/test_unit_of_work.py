"""The SQLAlchemy unit of work: one transaction for every repository call in its block,
events handed to publishers inside the transaction and again after the commit, and
nothing at all after a rollback."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, Engine, select

from crosswalk.db import Repositories
from crosswalk.db.engine import READONLY
from crosswalk.db.schema import initiatives
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.errors import ConflictError
from crosswalk.domain.events import Action, EntityChanged, Event
from crosswalk.domain.rows import NewAgent, NewConversation, NewInitiative, NewPhase


def _stored_names(engine: Engine) -> list[str]:
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        return list(conn.execute(select(initiatives.c.name).order_by(initiatives.c.name)).scalars())


class Recorder:
    """A publisher that notes what it saw, and what the database showed at that moment."""

    def __init__(self, engine: Engine, *, refuse: bool = False) -> None:
        self.engine = engine
        self.refuse = refuse
        self.calls: list[tuple[str, tuple[Event, ...], list[str]]] = []

    def publish_in_transaction(self, connection: Connection, events: Sequence[Event]) -> None:
        inside = list(connection.execute(select(initiatives.c.name)).scalars())
        self.calls.append(("in transaction", tuple(events), inside))
        if self.refuse:
            raise ConflictError("the publisher refused")

    def publish_committed(self, events: Sequence[Event]) -> None:
        self.calls.append(("committed", tuple(events), _stored_names(self.engine)))


def test_one_commit_for_the_block_and_events_after_it(engine: Engine, repos: Repositories) -> None:
    recorder = Recorder(engine)
    with SqlAlchemyUnitOfWork(engine, publishers=(recorder,)) as uow:
        first = repos.initiatives.create(NewInitiative(name="A"))
        repos.phases.create(NewPhase(initiative_id=first.id, name="build"))
        uow.record(EntityChanged("initiative", first.id, Action.CREATED))
        assert _stored_names(engine) == []  # not committed yet: others do not see it
        assert recorder.calls == []
    event = EntityChanged("initiative", first.id, Action.CREATED)
    assert recorder.calls == [
        ("in transaction", (event,), ["A"]),  # the transaction's own view
        ("committed", (event,), ["A"]),
    ]
    assert [p.name for p in repos.phases.find_by_initiative_id(first.id)] == ["build"]


def test_an_exception_rolls_back_every_write_and_publishes_nothing(
    engine: Engine, repos: Repositories
) -> None:
    recorder = Recorder(engine)
    with pytest.raises(ConflictError), SqlAlchemyUnitOfWork(engine, (recorder,)) as uow:
        first = repos.initiatives.create(NewInitiative(name="A"))
        uow.record(EntityChanged("initiative", first.id, Action.CREATED))
        repos.initiatives.create(NewInitiative(name="B"))
        raise ConflictError("changed my mind")
    assert _stored_names(engine) == []
    assert recorder.calls == []


def test_a_failing_repository_call_rolls_back_the_earlier_ones(
    engine: Engine, repos: Repositories
) -> None:
    recorder = Recorder(engine)
    with pytest.raises(ConflictError), SqlAlchemyUnitOfWork(engine, (recorder,)):
        repos.initiatives.create(NewInitiative(name="A", branch="cw/same"))
        repos.initiatives.create(NewInitiative(name="B", branch="cw/same"))  # unique branch
    assert _stored_names(engine) == []
    assert recorder.calls == []


def test_a_publisher_refusing_in_the_transaction_rolls_it_back(
    engine: Engine, repos: Repositories
) -> None:
    refusing, later = Recorder(engine, refuse=True), Recorder(engine)
    with pytest.raises(ConflictError), SqlAlchemyUnitOfWork(engine, (refusing, later)) as uow:
        created = repos.initiatives.create(NewInitiative(name="A"))
        uow.record(EntityChanged("initiative", created.id, Action.CREATED))
    assert _stored_names(engine) == []
    assert [call[0] for call in refusing.calls] == ["in transaction"]
    assert later.calls == []


def test_a_nested_unit_joins_the_outer_one(engine: Engine, repos: Repositories) -> None:
    recorder = Recorder(engine)
    with SqlAlchemyUnitOfWork(engine, (recorder,)) as outer:
        a = repos.initiatives.create(NewInitiative(name="A"))
        with SqlAlchemyUnitOfWork(engine, (recorder,)) as inner:
            b = repos.initiatives.create(NewInitiative(name="B"))
            inner.record(EntityChanged("initiative", b.id, Action.CREATED))
        assert recorder.calls == []  # the inner block did not commit
        outer.record(EntityChanged("initiative", a.id, Action.CREATED))
    assert [(kind, len(events)) for kind, events, _ in recorder.calls] == [
        ("in transaction", 2),
        ("committed", 2),
    ]


def test_reads_and_the_prepared_path_inside_a_unit_see_its_writes(
    engine: Engine, repos: Repositories
) -> None:
    with pytest.raises(ConflictError), SqlAlchemyUnitOfWork(engine):
        alice = repos.agents.create(NewAgent(name="alice", worktree_id="."))
        bob = repos.agents.create(NewAgent(name="bob", worktree_id="."))
        asked = repos.conversations.create(
            NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question="?")
        )
        assert [c.id for c in repos.conversations.find_pending_for_agent(bob.id)] == [asked.id]
        assert repos.conversations.answer(asked.id, "!").answer == "!"
        raise ConflictError("roll it all back")
    assert repos.agents.find_by_name("alice") is None
    assert repos.conversations.find_by_id(asked.id) is None
