"""PostgreSQL: a unit of work's change events go out with ``NOTIFY`` in the same round
trip as its ``COMMIT``, and only if the commit succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from crosswalk.db import Repositories
from crosswalk.db.encryption import SecretBox, generate_key
from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema
from crosswalk.db.pg_listen import CHANNEL, parse_payload
from crosswalk.db.repositories.sqlalchemy import create_repositories
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.errors import ConflictError
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import NewInitiative
from crosswalk.server.pg_changes import PostgresChangeRelay
from crosswalk.services.change_stream import ChangeStream


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_database_engine(postgres_url, secret_box=SecretBox([generate_key().encode()]))
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def listening(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection that ``LISTEN``s on the change channel, as another server's does."""
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def _heard(conn: psycopg.Connection[Any]) -> list[str]:
    return [note.payload for note in conn.notifies(timeout=0.5)]


class CountedExecutes:
    """Every statement a psycopg cursor sends, in order (each is one round trip)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        original = psycopg.Cursor.execute

        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            self.sent.append(str(query))
            return original(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", execute)


def test_the_notify_and_the_commit_take_one_round_trip(
    pg_engine: Engine, listening: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = PostgresChangeRelay(pg_engine, ChangeStream())
    repos: Repositories = create_repositories(pg_engine)
    unit = SqlAlchemyUnitOfWork(pg_engine, publishers=(relay,))
    with unit as uow:
        made = repos.initiatives.create(NewInitiative(name="notified"))
        uow.record(EntityChanged("initiative", made.id, Action.CREATED))
        driver: Any = uow._transaction.connection.connection.dbapi_connection  # type: ignore[union-attr]
        counted = CountedExecutes(monkeypatch)
    # One statement after the block: the NOTIFY and the COMMIT together, after which
    # the driver has no transaction left to commit.
    assert len(counted.sent) == 1
    assert "pg_notify" in counted.sent[0] and counted.sent[0].endswith("; COMMIT")
    assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    (payload,) = _heard(listening)
    origin, lines = parse_payload(payload)
    assert origin == relay.origin and made.id in lines[0]
    assert [i.name for i in repos.initiatives.list_page().items] == ["notified"]


def test_a_commit_that_fails_notifies_nobody_and_keeps_nothing(
    pg_engine: Engine, listening: psycopg.Connection[Any]
) -> None:
    relay = PostgresChangeRelay(pg_engine, ChangeStream())
    repos = create_repositories(pg_engine)
    with pytest.raises(ConflictError), SqlAlchemyUnitOfWork(pg_engine, (relay,)) as uow:
        made = repos.initiatives.create(NewInitiative(name="refused at commit"))
        uow.record(EntityChanged("initiative", made.id, Action.CREATED))
        # A constraint checked only at COMMIT: the commit itself fails.
        connection = uow._transaction.connection  # type: ignore[union-attr]
        connection.execute(
            text("CREATE TEMP TABLE once (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        )
        connection.execute(text("INSERT INTO once VALUES (1), (1)"))
    assert _heard(listening) == []
    assert repos.initiatives.list_page().items == []
    # The pooled connection is usable again.
    with SqlAlchemyUnitOfWork(pg_engine, (relay,)) as uow:
        made = repos.initiatives.create(NewInitiative(name="next"))
        uow.record(EntityChanged("initiative", made.id, Action.CREATED))
    assert len(_heard(listening)) == 1
