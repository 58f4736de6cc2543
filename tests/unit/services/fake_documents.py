"""In-memory stand-ins for the remaining ports: projects, pages, proposals, accounts,
log chunks and agent runs. Each is a dict of rows implementing its whole port (mypy checks it, see
the end), with the helpers and clock of ``fakes.py``; the contract suites in
``tests/integration/contract/`` hold each to its SQLAlchemy adapter."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from crosswalk.domain.accounts import is_exhausted
from crosswalk.domain.dependency_graph import would_create_cycle
from crosswalk.domain.enums import ProposalStatus
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Account,
    AccountUpdate,
    AgentRun,
    AgentRunEnd,
    InitiativeProjectsChange,
    LogChunk,
    NewAccount,
    NewAgentRun,
    NewLogChunk,
    NewPage,
    NewProject,
    NewProposal,
    Page,
    Paged,
    PageUpdate,
    Project,
    ProjectPush,
    ProjectUpdate,
    Proposal,
    ProposalUpdate,
    PushUpdate,
    Removal,
)
from tests.unit.services.fakes import (
    FakeInitiatives,
    changed,
    fake_id,
    get_row,
    oldest_first,
    page,
    tick,
)


class FakeProjects:
    """``ProjectRepository``; ``initiatives`` is what links are checked against."""

    def __init__(self, initiatives: FakeInitiatives | None = None) -> None:
        self.rows: dict[str, Project] = {}
        self.links: dict[str, list[str]] = {}  # initiative id -> project ids, oldest first
        self.pushes: dict[tuple[str, str], PushUpdate] = {}  # (initiative, project) -> last push
        self.initiatives = initiatives or FakeInitiatives()

    def _refuse_taken(self, name: str | None, url: str | None, owner: str | None) -> None:
        for field, value in (("name", name), ("url", url)):
            holder = next((p.id for p in self.rows.values() if getattr(p, field) == value), None)
            if value is not None and holder is not None and holder != owner:
                raise ConflictError(
                    f"project {field} '{value}' is already used by project '{holder}'"
                )

    def create(self, data: NewProject) -> Project:
        self._refuse_taken(data.name, data.url, owner=None)
        now = tick()
        row = Project(fake_id("pr"), data.name, data.url, data.default_branch, now, now)
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Project | None:
        return self.rows.get(id)

    def get(self, id: str) -> Project:
        return get_row(self.rows, "project", id)

    def find_by_name(self, name: str) -> Project | None:
        return next((p for p in self.rows.values() if p.name == name), None)

    def find_all(self) -> list[Project]:
        return sorted(self.rows.values(), key=lambda p: (p.name, p.id))

    def list_page(
        self, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Paged[Project]:
        return page(self.rows.values(), limit=limit, cursor=cursor)

    def update(self, id: str, changes: ProjectUpdate) -> Project:
        self._refuse_taken(changes.get("name"), changes.get("url"), owner=id)
        row = changed(self.get(id), changes, ProjectUpdate)
        self.rows[id] = row
        return row

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        links = 0
        for initiative_id, linked in self.links.items():
            if id in linked:
                linked.remove(id)
                self.pushes.pop((initiative_id, id), None)
                links += 1
        return {"initiativeProjects": links}

    def set_initiative_projects(
        self, initiative_id: str, project_ids: Iterable[str]
    ) -> InitiativeProjectsChange:
        wanted = list(dict.fromkeys(project_ids))
        self.initiatives.get(initiative_id)
        for id in wanted:
            self.get(id)
        linked = self.links.get(initiative_id, [])
        added = [id for id in wanted if id not in linked]
        removed = [id for id in linked if id not in wanted]
        self.links[initiative_id] = [id for id in linked if id in wanted] + added
        for id in removed:
            self.pushes.pop((initiative_id, id), None)
        return InitiativeProjectsChange(tuple(added), tuple(removed), tuple(wanted))

    def add_project_to_initiative(self, initiative_id: str, project_id: str) -> None:
        self.initiatives.get(initiative_id)
        self.get(project_id)
        linked = self.links.setdefault(initiative_id, [])
        if project_id not in linked:
            linked.append(project_id)

    def remove_project_from_initiative(self, initiative_id: str, project_id: str) -> None:
        linked = self.links.get(initiative_id, [])
        if project_id not in linked:
            raise NotFoundError(
                "project",
                project_id,
                f"project '{project_id}' is not linked to initiative '{initiative_id}'",
            )
        linked.remove(project_id)
        self.pushes.pop((initiative_id, project_id), None)

    def find_projects_by_initiative_id(self, initiative_id: str) -> list[Project]:
        linked = [self.rows[id] for id in self.links.get(initiative_id, [])]
        return sorted(linked, key=lambda p: (p.name, p.id))

    def find_pushes(self, initiative_id: str) -> list[ProjectPush]:
        found = []
        for project in self.find_projects_by_initiative_id(initiative_id):
            push = self.pushes.get((initiative_id, project.id), {})
            found.append(
                ProjectPush(
                    initiative_id,
                    project.id,
                    project.name,
                    project.url,
                    push.get("pushed_commit"),
                    push.get("pushed_at"),
                    push.get("push_error"),
                )
            )
        return found

    def record_push(self, initiative_id: str, project_id: str, changes: PushUpdate) -> None:
        if project_id not in self.links.get(initiative_id, []):
            raise NotFoundError(
                "project",
                project_id,
                f"project '{project_id}' is not linked to initiative '{initiative_id}'",
            )
        key = (initiative_id, project_id)
        self.pushes[key] = {**self.pushes.get(key, {}), **changes}


class FakePages:
    """``PageRepository``: one root page per initiative, a tree below it."""

    def __init__(self, initiatives: FakeInitiatives | None = None) -> None:
        self.rows: dict[str, Page] = {}
        self.initiatives = initiatives or FakeInitiatives()

    def _refuse_second_root(self, initiative_id: str, page_id: str | None) -> None:
        root = self.find_root_page(initiative_id)
        if root is not None and root.id != page_id:
            raise ConflictError(f"initiative '{initiative_id}' already has a root page '{root.id}'")

    def _parent_in(self, parent_id: str, initiative_id: str) -> None:
        parent = self.get(parent_id)
        if parent.initiative_id != initiative_id:
            raise InvalidInputError(
                f"parent page '{parent.id}' belongs to initiative '{parent.initiative_id}', "
                f"not '{initiative_id}'",
                field="parent_page_id",
            )

    def create(self, data: NewPage) -> Page:
        self.initiatives.get(data.initiative_id)
        if data.parent_page_id is None:
            self._refuse_second_root(data.initiative_id, page_id=None)
        else:
            self._parent_in(data.parent_page_id, data.initiative_id)
        now = tick()
        row = Page(
            id=fake_id("pg"), initiative_id=data.initiative_id,
            parent_page_id=data.parent_page_id, title=data.title, content=data.content,
            sort_order=data.sort_order, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Page | None:
        return self.rows.get(id)

    def get(self, id: str) -> Page:
        return get_row(self.rows, "page", id)

    def find_all(self) -> list[Page]:
        return oldest_first(self.rows.values())

    def find_by_initiative_id(self, initiative_id: str) -> list[Page]:
        return [p for p in self.find_all() if p.initiative_id == initiative_id]

    def find_root_page(self, initiative_id: str) -> Page | None:
        return next(
            (
                p
                for p in self.rows.values()
                if p.initiative_id == initiative_id and p.parent_page_id is None
            ),
            None,
        )

    def get_or_create_root_page(self, initiative_id: str, title: str | None = None) -> Page:
        root = self.find_root_page(initiative_id)
        if root is not None:
            return root
        name = self.initiatives.get(initiative_id).name
        return self.create(NewPage(initiative_id, name if title is None else title))

    def find_by_parent_page_id(self, parent_page_id: str) -> list[Page]:
        children = [p for p in self.rows.values() if p.parent_page_id == parent_page_id]
        return sorted(children, key=lambda p: (p.sort_order, p.created_at, p.id))

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        parent_page_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Page]:
        rows = [
            p for p in self.rows.values()
            if (initiative_id is None or p.initiative_id == initiative_id)
            and (parent_page_id is None or p.parent_page_id == parent_page_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: PageUpdate) -> Page:
        current = self.get(id)
        if "parent_page_id" in changes:
            parent_id = changes["parent_page_id"]
            if parent_id is None:
                self._refuse_second_root(current.initiative_id, page_id=id)
            else:
                self._parent_in(parent_id, current.initiative_id)
                parents = self._parent_of
                if would_create_cycle(id, parent_id, parents) is not None:
                    raise InvalidInputError(
                        f"page '{id}' cannot move under '{parent_id}': it would be its own "
                        "ancestor",
                        field="parent_page_id",
                    )
        row = changed(current, changes, PageUpdate)
        self.rows[id] = row
        return row

    def _parent_of(self, id: str) -> list[str]:
        parent = self.rows[id].parent_page_id
        return [] if parent is None else [parent]

    def delete(self, id: str) -> Removal:
        below = self._below(self.get(id).id)
        for gone in [id, *below]:
            del self.rows[gone]
        return {"pages": len(below)}

    def _below(self, id: str) -> list[str]:
        children = [p.id for p in self.rows.values() if p.parent_page_id == id]
        return children + [deeper for child in children for deeper in self._below(child)]


class FakeProposals:
    """``ProposalRepository``."""

    def __init__(self) -> None:
        self.rows: dict[str, Proposal] = {}

    def create(self, data: NewProposal) -> Proposal:
        now = tick()
        row = Proposal(
            id=fake_id("pp"), agent_id=data.agent_id, initiative_id=data.initiative_id,
            target_type=data.target_type, target_id=data.target_id, title=data.title,
            summary=data.summary, content=data.content, metadata=data.metadata,
            status=data.status, sort_order=data.sort_order, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Proposal | None:
        return self.rows.get(id)

    def get(self, id: str) -> Proposal:
        return get_row(self.rows, "proposal", id)

    def find_all(self) -> list[Proposal]:
        return sorted(self.rows.values(), key=lambda p: (p.sort_order, p.created_at, p.id))

    def find_by_initiative_id(self, initiative_id: str) -> list[Proposal]:
        return [p for p in self.find_all() if p.initiative_id == initiative_id]

    def find_by_agent_id_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> list[Proposal]:
        return [
            p for p in self.find_all()
            if p.agent_id == agent_id and (status is None or p.status is status)
        ]  # fmt: skip

    def count_by_agent_id_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> int:
        return len(self.find_by_agent_id_and_status(agent_id, status))

    def list_page(
        self,
        *,
        agent_id: str | None = None,
        initiative_id: str | None = None,
        status: ProposalStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Proposal]:
        rows = [
            p for p in self.rows.values()
            if (agent_id is None or p.agent_id == agent_id)
            and (initiative_id is None or p.initiative_id == initiative_id)
            and (status is None or p.status is status)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: ProposalUpdate) -> Proposal:
        row = changed(self.get(id), changes, ProposalUpdate)
        self.rows[id] = row
        return row

    def update_many_by_agent_id(
        self, agent_id: str, changes: ProposalUpdate, *, status: ProposalStatus | None = None
    ) -> list[str]:
        if not changes:
            return []
        ids = sorted(p.id for p in self.find_by_agent_id_and_status(agent_id, status))
        for id in ids:
            self.update(id, changes)
        return ids

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        return {}


class FakeAccounts:
    """``AccountRepository``: round-robin over the accounts of a provider."""

    def __init__(self) -> None:
        self.rows: dict[str, Account] = {}

    def create(self, data: NewAccount) -> Account:
        now = tick()
        row = Account(
            id=fake_id("ac"), email=data.email, provider=data.provider,
            config_json=data.config_json, credentials=data.credentials, is_exhausted=False,
            exhausted_until=None, last_used_at=None, sort_order=data.sort_order,
            created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Account | None:
        return self.rows.get(id)

    def get(self, id: str) -> Account:
        return get_row(self.rows, "account", id)

    def find_all(self) -> list[Account]:
        return sorted(self.rows.values(), key=lambda a: (a.sort_order, a.created_at, a.id))

    def find_by_provider(self, provider: str) -> list[Account]:
        return [a for a in self.find_all() if a.provider == provider]

    def list_page(
        self,
        *,
        provider: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Account]:
        rows = [a for a in self.rows.values() if provider is None or a.provider == provider]
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: AccountUpdate) -> Account:
        row = changed(self.get(id), changes, AccountUpdate)
        self.rows[id] = row
        return row

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        return {"agentsDetached": 0}

    def find_next_available(self, provider: str, now: datetime | None = None) -> Account | None:
        now = now or tick()
        available = [a for a in self.find_by_provider(provider) if not is_exhausted(a, now)]
        if not available:
            return None
        chosen = min(available, key=lambda a: (a.last_used_at is not None, a.last_used_at or now))
        return self.update(
            chosen.id, {"last_used_at": now, "is_exhausted": False, "exhausted_until": None}
        )

    def mark_exhausted(self, id: str, until: datetime) -> Account:
        return self.update(id, {"is_exhausted": True, "exhausted_until": until})

    def clear_expired_exhaustion(self, now: datetime | None = None) -> list[str]:
        now = now or tick()
        expired = sorted(
            a.id for a in self.rows.values() if a.is_exhausted and not is_exhausted(a, now)
        )
        for id in expired:
            self.update(id, {"is_exhausted": False, "exhausted_until": None})
        return expired


class FakeLogChunks:
    """``LogChunkRepository``: chunks kept per agent, even after the agent is gone."""

    def __init__(self) -> None:
        self.rows: list[LogChunk] = []

    def insert_chunk(self, data: NewLogChunk) -> LogChunk:
        row = LogChunk(
            fake_id("l"), data.agent_id, data.agent_name, data.session_number, data.content, tick()
        )
        self.rows.append(row)
        return row

    def insert_chunks(self, data: Sequence[NewLogChunk]) -> list[LogChunk]:
        return [self.insert_chunk(chunk) for chunk in data]

    def find_by_agent_id(
        self,
        agent_id: str,
        *,
        session_number: int | None = None,
        after: datetime | None = None,
    ) -> list[LogChunk]:
        return [
            c for c in self.rows
            if c.agent_id == agent_id and session_number in (None, c.session_number)
            and (after is None or c.created_at > after)
        ]  # fmt: skip

    def delete_by_agent_id(self, agent_id: str) -> int:
        kept = [c for c in self.rows if c.agent_id != agent_id]
        removed, self.rows = len(self.rows) - len(kept), kept
        return removed

    def get_session_count(self, agent_id: str) -> int:
        return max((c.session_number for c in self.find_by_agent_id(agent_id)), default=0)

    def session_counts(self, agent_ids: Collection[str]) -> dict[str, int]:
        return {id: self.get_session_count(id) for id in agent_ids}


class FakeAgentRuns:
    """``AgentRunRepository``: one run per agent and session, kept after the agent."""

    def __init__(self) -> None:
        self.rows: list[AgentRun] = []

    def start(self, data: NewAgentRun) -> AgentRun:
        stored = self._find(data.agent_id, data.session_number)
        if stored is not None:
            return stored
        row = AgentRun(
            fake_id("r"), data.agent_id, data.agent_name, data.task_id, data.initiative_id,
            data.session_number, data.provider, data.started_at,
            None, None, None, None, None, None, None, None, None,
        )  # fmt: skip
        self.rows.append(row)
        return row

    def finish(self, agent_id: str, session_number: int, end: AgentRunEnd) -> AgentRun | None:
        stored = self._find(agent_id, session_number)
        if stored is None:
            return None
        row = replace(stored, **end)
        self.rows[self.rows.index(stored)] = row
        return row

    def find(
        self,
        *,
        agent_id: str | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
    ) -> list[AgentRun]:
        found = [
            r for r in self.rows
            if agent_id in (None, r.agent_id) and task_id in (None, r.task_id)
            and initiative_id in (None, r.initiative_id)
        ]  # fmt: skip
        return sorted(found, key=lambda r: (r.started_at, r.id))

    def _find(self, agent_id: str, session_number: int) -> AgentRun | None:
        return next(
            (r for r in self.rows if (r.agent_id, r.session_number) == (agent_id, session_number)),
            None,
        )


if TYPE_CHECKING:  # mypy: each fake satisfies its port
    from crosswalk.db.repositories import (
        AccountRepository,
        AgentRunRepository,
        LogChunkRepository,
        PageRepository,
        ProjectRepository,
        ProposalRepository,
    )

    _projects: ProjectRepository = FakeProjects()
    _runs: AgentRunRepository = FakeAgentRuns()
    _pages: PageRepository = FakePages()
    _proposals: ProposalRepository = FakeProposals()
    _accounts: AccountRepository = FakeAccounts()
    _log_chunks: LogChunkRepository = FakeLogChunks()
