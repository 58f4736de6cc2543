"""What the database itself refuses, and what its ON DELETE rules do.

The first half writes raw SQL (``text()`` with plain bound values), so no Python
type or enum validation runs: a bad enum value, a non-boolean flag or a NULL in
a NOT NULL column must be stopped by the schema's CHECK and NOT NULL
constraints. The cases are derived from ``schema.metadata``, so a column added
later is covered without touching this file. Then the same mistakes through
the repositories, which must surface as ``InvalidInputError``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Enum,
    Float,
    Integer,
    Table,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from crosswalk.db import Repositories
from crosswalk.db.driver_errors import Failure, classify
from crosswalk.db.schema import (
    agents,
    initiative_projects,
    initiatives,
    metadata,
    pages,
    phase_dependencies,
    phases,
    projects,
    proposals,
    task_dependencies,
    tasks,
)
from crosswalk.db.types import EpochMillis, to_millis
from crosswalk.domain.enums import ParticipantType, ProposalTargetType
from crosswalk.domain.errors import InvalidInputError
from crosswalk.domain.rows import (
    NewAccount,
    NewAgent,
    NewInitiative,
    NewMessage,
    NewPage,
    NewPhase,
    NewProject,
    NewProposal,
    NewTask,
)
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

# --- raw rows ---------------------------------------------------------------------


def plain_value(column: Column[Any], parents: dict[str, str]) -> Any:
    """A value the column accepts, as the driver would store it."""
    if column.foreign_keys:  # also a key that is its parent's (answer_deliveries)
        (foreign_key,) = column.foreign_keys
        return parents.get(foreign_key.column.table.name)
    if isinstance(column.type, Boolean):  # also a flag in a primary key (file_changes)
        return False
    if column.primary_key:
        return new_id()
    if isinstance(column.type, Enum):
        return column.type.enums[0]
    if isinstance(column.type, EpochMillis):
        return to_millis(utcnow())
    if isinstance(column.type, Integer):
        return 0
    if isinstance(column.type, Float):
        return 0.0
    text = f"{column.table.name}-{column.name}-{new_id()}"
    length = getattr(column.type, "length", None)
    return text[-length:] if length else text


def valid_row(table: Table, parents: dict[str, str]) -> dict[str, Any]:
    return {column.name: plain_value(column, parents) for column in table.columns}


def raw_insert(engine: Engine, table: Table, row: dict[str, Any]) -> None:
    """INSERT through ``text()``: the values reach the database exactly as given."""
    names = ", ".join(f'"{name}"' for name in row)
    binds = ", ".join(f":{name}" for name in row)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table.name} ({names}) VALUES ({binds})"), row)


REFERENCED = {
    foreign_key.column.table.name
    for table in metadata.sorted_tables
    for foreign_key in table.foreign_keys
}


@pytest.fixture
def parents(engine: Engine) -> dict[str, str]:
    """One row in every table a foreign key points at, inserted raw in dependency
    order: the rows the test rows refer to."""
    ids: dict[str, str] = {}
    for table in metadata.sorted_tables:
        if table.name not in REFERENCED:
            continue
        row = valid_row(table, ids)
        raw_insert(engine, table, row)
        ids[table.name] = row["id"]
    return ids


def not_null_cases() -> list[Any]:
    return [
        pytest.param(table, column.name, id=f"{table.name}.{column.name}")
        for table in metadata.sorted_tables
        for column in table.columns
        if not column.nullable
    ]


def enum_cases() -> list[Any]:
    cases = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Enum):
                cases.append(
                    pytest.param(table, column.name, "bogus", id=f"{table.name}.{column.name}")
                )
            elif isinstance(column.type, Boolean):
                cases.append(pytest.param(table, column.name, 2, id=f"{table.name}.{column.name}"))
    return cases


def count(engine: Engine, table: Table, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@pytest.mark.parametrize("table", metadata.sorted_tables, ids=lambda table: table.name)
def test_the_valid_raw_row_is_accepted(
    engine: Engine, parents: dict[str, str], table: Table
) -> None:
    """The control for the cases below: they fail only by the value they change."""
    before = count(engine, table)

    raw_insert(engine, table, valid_row(table, parents))

    assert count(engine, table) == before + 1


@pytest.mark.parametrize(("table", "column"), not_null_cases())
def test_the_database_refuses_null_in_a_not_null_column(
    engine: Engine, parents: dict[str, str], table: Table, column: str
) -> None:
    row = valid_row(table, parents) | {column: None}

    with pytest.raises(IntegrityError) as raised:
        raw_insert(engine, table, row)
    error = classify(raised.value)
    assert (error.failure, error.columns) == (Failure.NOT_NULL, (f"{table.name}.{column}",))
    assert count(engine, table) == int(table.name in REFERENCED)


@pytest.mark.parametrize(("table", "column", "value"), enum_cases())
def test_the_database_refuses_a_value_outside_the_enum(
    engine: Engine, parents: dict[str, str], table: Table, column: str, value: object
) -> None:
    row = valid_row(table, parents) | {column: value}

    with pytest.raises(DBAPIError) as raised:
        raw_insert(engine, table, row)
    error = classify(raised.value)
    if isinstance(table.c[column].type, Boolean) and engine.dialect.name == "postgresql":
        # A native boolean column: the type itself refuses 2, no CHECK needed.
        assert error.failure is Failure.BAD_VALUE
    else:
        assert (error.failure, error.constraint) == (Failure.CHECK, f"ck_{table.name}_{column}")
    assert count(engine, table) == int(table.name in REFERENCED)


def test_every_enum_and_flag_column_is_covered() -> None:
    covered = {param.id for param in enum_cases()}

    assert {"tasks.status", "tasks.type", "tasks.category", "tasks.priority"} <= covered
    assert {"initiatives.status", "initiatives.merge_requires_approval", "phases.status"} <= covered
    assert {
        "agents.status",
        "agents.mode",
        "proposals.target_type",
        "conversations.status",
    } <= covered


# --- the same mistakes through the repositories -------------------------------------


def test_repositories_report_bad_enum_values_as_invalid_input(
    repos: Repositories, engine: Engine
) -> None:
    initiative = repos.initiatives.create(NewInitiative("x"))
    phase = repos.phases.create(NewPhase(initiative.id, "p"))
    bad: Any = "bogus"

    for call in (
        lambda: repos.initiatives.create(NewInitiative("y", status=bad)),
        lambda: repos.initiatives.create(NewInitiative("y", merge_requires_approval=bad)),
        lambda: repos.phases.create(NewPhase(initiative.id, "q", status=bad)),
        lambda: repos.tasks.create(NewTask("t", initiative_id=initiative.id, priority=bad)),
        lambda: repos.tasks.create(NewTask("t", initiative_id=initiative.id, type=bad)),
        lambda: repos.tasks.update(
            repos.tasks.create(NewTask("t", initiative_id=initiative.id)).id, {"status": bad}
        ),
        lambda: repos.phases.update(phase.id, {"status": bad}),
        lambda: repos.initiatives.find_by_status(bad),
    ):
        with pytest.raises(InvalidInputError, match="bogus"):
            call()

    assert count(engine, initiatives) == 1
    assert count(engine, phases) == 1
    assert repos.phases.get(phase.id) == phase
    assert {task.status for task in repos.tasks.find_all()} == {"pending"}


def test_repositories_report_a_missing_required_value_as_invalid_input(
    repos: Repositories, engine: Engine
) -> None:
    initiative = repos.initiatives.create(NewInitiative("x"))
    missing: Any = None

    for call, column in (
        (lambda: repos.initiatives.create(NewInitiative(missing)), "initiatives.name"),
        (lambda: repos.phases.create(NewPhase(initiative.id, missing)), "phases.name"),
        (lambda: repos.tasks.create(NewTask(missing)), "tasks.name"),
        (lambda: repos.pages.create(NewPage(initiative.id, missing)), "pages.title"),
        (lambda: repos.projects.create(NewProject("p", missing)), "projects.url"),
    ):
        with pytest.raises(InvalidInputError, match=f"{column} is required") as raised:
            call()
        assert raised.value.field == column

    assert count(engine, initiatives) == 1
    for table in (phases, tasks, pages, projects):
        assert count(engine, table) == 0


def test_repositories_report_content_that_is_not_json_as_invalid_input(
    repos: Repositories, engine: Engine
) -> None:
    initiative = repos.initiatives.create(NewInitiative("x"))

    with pytest.raises(InvalidInputError, match="not JSON serializable"):
        repos.phases.create(NewPhase(initiative.id, "p", content={1, 2}))
    with pytest.raises(InvalidInputError, match="not JSON serializable"):
        repos.pages.create(NewPage(initiative.id, "p", content=object()))
    assert count(engine, phases) == count(engine, pages) == 0


# --- ON DELETE ------------------------------------------------------------------------


def delete_raw(engine: Engine, table: Table, id: str) -> None:
    """Delete with Core, so only the database's ON DELETE rules act."""
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id == id))


def test_deleting_an_initiative_removes_everything_it_owns(
    repos: Repositories, engine: Engine
) -> None:
    doomed = repos.initiatives.create(NewInitiative("doomed"))
    kept = repos.initiatives.create(NewInitiative("kept"))
    first = repos.phases.create(NewPhase(doomed.id, "first"))
    second = repos.phases.create(NewPhase(doomed.id, "second"))
    repos.phases.create_dependency(second.id, first.id)
    parent = repos.tasks.create(NewTask("parent", phase_id=first.id))
    child = repos.tasks.create(NewTask("child", parent_task_id=parent.id))
    repos.tasks.create_dependency(child.id, repos.tasks.create(NewTask("x", phase_id=second.id)).id)
    root = repos.pages.get_or_create_root_page(doomed.id)
    repos.pages.create(NewPage(doomed.id, "child", parent_page_id=root.id))
    project = repos.projects.create(NewProject("repo", "git@x:repo.git"))
    repos.projects.add_project_to_initiative(doomed.id, project.id)
    agent = repos.agents.create(NewAgent("/wt", initiative_id=doomed.id, task_id=child.id))
    repos.proposals.create(NewProposal(agent.id, doomed.id, ProposalTargetType.PAGE, "p"))
    kept_page = repos.pages.get_or_create_root_page(kept.id)
    kept_task = repos.tasks.create(NewTask("kept", initiative_id=kept.id))

    delete_raw(engine, initiatives, doomed.id)

    for table in (phases, phase_dependencies, task_dependencies, proposals, initiative_projects):
        assert count(engine, table) == 0, table.name
    assert repos.tasks.find_all() == [kept_task]
    assert repos.pages.find_all() == [kept_page]
    assert repos.projects.find_all() == [project]
    survivor = repos.agents.get(agent.id)
    assert (survivor.initiative_id, survivor.task_id) == (None, None)


def test_deleting_a_phase_removes_its_tasks_and_their_subtasks(
    repos: Repositories, engine: Engine
) -> None:
    initiative = repos.initiatives.create(NewInitiative("x"))
    doomed, kept = (repos.phases.create(NewPhase(initiative.id, n)) for n in ("doomed", "kept"))
    parent = repos.tasks.create(NewTask("parent", phase_id=doomed.id))
    # A subtask filed under another phase still goes with its parent.
    repos.tasks.create(NewTask("child", parent_task_id=parent.id, phase_id=kept.id))
    kept_task = repos.tasks.create(NewTask("kept", phase_id=kept.id))

    delete_raw(engine, phases, doomed.id)

    assert repos.tasks.find_all() == [kept_task]


def test_deleting_a_page_removes_its_subtree_only(repos: Repositories, engine: Engine) -> None:
    initiative = repos.initiatives.create(NewInitiative("x"))
    root = repos.pages.get_or_create_root_page(initiative.id)
    doomed = repos.pages.create(NewPage(initiative.id, "doomed", parent_page_id=root.id))
    below = repos.pages.create(NewPage(initiative.id, "below", parent_page_id=doomed.id))
    repos.pages.create(NewPage(initiative.id, "deeper", parent_page_id=below.id))
    sibling = repos.pages.create(NewPage(initiative.id, "sibling", parent_page_id=root.id))

    delete_raw(engine, pages, doomed.id)

    assert repos.pages.find_all() == [root, sibling]


def test_deleting_a_project_removes_its_links_only(repos: Repositories, engine: Engine) -> None:
    initiative = repos.initiatives.create(NewInitiative("x"))
    doomed = repos.projects.create(NewProject("doomed", "git@x:doomed.git"))
    kept = repos.projects.create(NewProject("kept", "git@x:kept.git"))
    repos.projects.set_initiative_projects(initiative.id, [doomed.id, kept.id])

    delete_raw(engine, projects, doomed.id)

    assert repos.projects.find_projects_by_initiative_id(initiative.id) == [kept]
    assert repos.initiatives.get(initiative.id) == initiative
    assert count(engine, agents) == 0


def test_the_agent_repository_reports_a_bad_enum_value_as_invalid_input(
    repos: Repositories,
) -> None:
    bad: Any = "bogus"

    with pytest.raises(InvalidInputError, match="bogus"):
        repos.agents.create(NewAgent("/wt", status=bad))


def test_an_unknown_field_in_any_update_is_invalid_input(repos: Repositories) -> None:
    """Every adapter's ``update`` refuses a key its ``*Update`` type lacks, naming it,
    instead of letting SQLAlchemy fail on it."""
    initiative = repos.initiatives.create(NewInitiative("i"))
    agent = repos.agents.create(NewAgent(worktree_id="."))
    rows = {
        repos.initiatives: initiative.id,
        repos.accounts: repos.accounts.create(NewAccount(email="a@example.com")).id,
        repos.messages: repos.messages.create(
            NewMessage(
                sender_type=ParticipantType.AGENT,
                sender_id=agent.id,
                recipient_type=ParticipantType.USER,
                content="hello",
            )
        ).id,
        repos.proposals: repos.proposals.create(
            NewProposal(
                agent_id=agent.id,
                initiative_id=initiative.id,
                target_type=ProposalTargetType.PAGE,
                title="t",
            )
        ).id,
    }
    for repository, id in rows.items():
        with pytest.raises(InvalidInputError, match="no field 'bogus'"):
            repository.update(id, {"bogus": 1})  # type: ignore[attr-defined]
