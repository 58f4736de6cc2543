"""Pages, proposals and projects: the documents of an initiative.

Every write runs in a unit of work and records ``EntityChanged`` (``id`` ``*`` when a
write touched several rows). The rules of proposals live here: a target must exist,
and only a pending proposal can be accepted or dismissed. A project's URL and default
branch must be values git takes as such (``crosswalk.domain.git_names``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crosswalk.db.repositories import (
    PageRepository,
    PhaseRepository,
    ProjectRepository,
    ProposalRepository,
    TaskRepository,
)
from crosswalk.domain.enums import ProposalStatus, ProposalTargetType
from crosswalk.domain.errors import ConflictError, PreconditionFailedError
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.git_names import check_branch, check_project_url
from crosswalk.domain.rows import (
    Initiative,
    InitiativeProjectsChange,
    NewPage,
    NewProject,
    NewProposal,
    Page,
    PageUpdate,
    Project,
    ProjectUpdate,
    Proposal,
    ProposalUpdate,
    PushUpdate,
    Removal,
)
from crosswalk.services.unit_of_work import UnitOfWorkFactory


def projects_to_work_in(projects: ProjectRepository, initiative: Initiative) -> list[Project]:
    """The initiative's projects. Agents work in their repositories, so an initiative
    without one is PRECONDITION_FAILED, saying how to link one (spawn and dispatch
    both refuse it before they start anything)."""
    found = projects.find_projects_by_initiative_id(initiative.id)
    if not found:
        raise PreconditionFailedError(
            f"initiative {initiative.name} ({initiative.id}) has no project to work in; "
            f"link one with: cw project link {initiative.id} PROJECT_ID (register the "
            "repository first with: cw project create NAME GIT_URL)"
        )
    return found


@dataclass(slots=True)
class DocumentService:
    pages: PageRepository
    proposals: ProposalRepository
    projects: ProjectRepository
    phases: PhaseRepository
    tasks: TaskRepository
    unit_of_work: UnitOfWorkFactory

    # --- pages -------------------------------------------------------------------------

    def create_page(self, data: NewPage) -> Page:
        with self.unit_of_work() as uow:
            page = self.pages.create(data)
            uow.record(EntityChanged("page", page.id, Action.CREATED))
        return page

    def update_page(self, id: str, changes: PageUpdate) -> Page:
        with self.unit_of_work() as uow:
            page = self.pages.update(id, changes)
            uow.record(EntityChanged("page", id, Action.UPDATED))
        return page

    def delete_page(self, id: str) -> tuple[Page, Removal]:
        with self.unit_of_work() as uow:
            page = self.pages.get(id)
            removed = self.pages.delete(id)
            uow.record(EntityChanged("page", id, Action.DELETED))
        return page, removed

    def root_page(self, initiative_id: str, title: str | None) -> Page:
        """The initiative's root page, created when missing."""
        with self.unit_of_work() as uow:
            existing = self.pages.find_root_page(initiative_id)
            page = self.pages.get_or_create_root_page(initiative_id, title)
            if existing is None:
                uow.record(EntityChanged("page", page.id, Action.CREATED))
        return page

    # --- proposals ---------------------------------------------------------------------

    def require_target(self, target_type: ProposalTargetType, target_id: str | None) -> None:
        """An existing target must exist: NOT_FOUND names the page, phase or task."""
        if target_id is None:
            return
        lookup = {
            ProposalTargetType.PAGE: self.pages.get,
            ProposalTargetType.PHASE: self.phases.get,
            ProposalTargetType.TASK: self.tasks.get,
        }[target_type]
        lookup(target_id)

    def create_proposal(self, data: NewProposal) -> Proposal:
        with self.unit_of_work() as uow:
            self.require_target(data.target_type, data.target_id)
            proposal = self.proposals.create(data)
            uow.record(EntityChanged("proposal", proposal.id, Action.CREATED))
        return proposal

    def update_proposal(self, id: str, changes: ProposalUpdate) -> Proposal:
        with self.unit_of_work() as uow:
            if "target_type" in changes or "target_id" in changes:
                proposal = self.proposals.get(id)
                self.require_target(
                    changes.get("target_type", proposal.target_type),
                    changes.get("target_id", proposal.target_id),
                )
            updated = self.proposals.update(id, changes)
            uow.record(EntityChanged("proposal", id, Action.UPDATED))
        return updated

    def decide_proposal(self, id: str, status: ProposalStatus) -> Proposal:
        """pending -> ``status`` (accepted or dismissed); any other state is CONFLICT."""
        with self.unit_of_work() as uow:
            proposal = self.proposals.get(id)
            if proposal.status is not ProposalStatus.PENDING:
                raise ConflictError(
                    f"proposal '{id}' is already {proposal.status.value}; only pending "
                    "proposals can be accepted or dismissed"
                )
            decided = self.proposals.update(id, {"status": status})
            uow.record(EntityChanged("proposal", id, Action.UPDATED))
        return decided

    def update_proposals_of_agent(
        self, agent_id: str, changes: ProposalUpdate, status: ProposalStatus | None
    ) -> int:
        with self.unit_of_work() as uow:
            updated = self.proposals.update_many_by_agent_id(agent_id, changes, status=status)
            uow.record(*(EntityChanged("proposal", id, Action.UPDATED) for id in updated))
        return len(updated)

    def delete_proposal(self, id: str) -> tuple[Proposal, Removal]:
        with self.unit_of_work() as uow:
            proposal = self.proposals.get(id)
            removed = self.proposals.delete(id)
            uow.record(EntityChanged("proposal", id, Action.DELETED))
        return proposal, removed

    # --- projects ----------------------------------------------------------------------

    def create_project(self, data: NewProject) -> Project:
        check_project_url(data.url)
        check_branch(data.default_branch, "defaultBranch")
        with self.unit_of_work() as uow:
            project = self.projects.create(data)
            uow.record(EntityChanged("project", project.id, Action.CREATED))
        return project

    def update_project(self, id: str, changes: ProjectUpdate) -> Project:
        check_project_url(changes.get("url"))
        check_branch(changes.get("default_branch"), "defaultBranch")
        with self.unit_of_work() as uow:
            project = self.projects.update(id, changes)
            uow.record(EntityChanged("project", id, Action.UPDATED))
        return project

    def delete_project(self, id: str) -> tuple[Project, Removal]:
        with self.unit_of_work() as uow:
            project = self.projects.get(id)
            removed = self.projects.delete(id)
            uow.record(EntityChanged("project", id, Action.DELETED))
        return project, removed

    def set_initiative_projects(
        self, initiative_id: str, project_ids: Iterable[str]
    ) -> InitiativeProjectsChange:
        with self.unit_of_work() as uow:
            change = self.projects.set_initiative_projects(initiative_id, project_ids)
            if change.added or change.removed:
                uow.record(EntityChanged("initiative", initiative_id, Action.UPDATED))
        return change

    def link_project(self, initiative_id: str, project_id: str) -> list[Project]:
        with self.unit_of_work() as uow:
            self.projects.add_project_to_initiative(initiative_id, project_id)
            uow.record(EntityChanged("initiative", initiative_id, Action.UPDATED))
            return self.projects.find_projects_by_initiative_id(initiative_id)

    def unlink_project(self, initiative_id: str, project_id: str) -> list[Project]:
        with self.unit_of_work() as uow:
            self.projects.remove_project_from_initiative(initiative_id, project_id)
            uow.record(EntityChanged("initiative", initiative_id, Action.UPDATED))
            return self.projects.find_projects_by_initiative_id(initiative_id)

    def record_push(self, initiative_id: str, project_id: str, changes: PushUpdate) -> None:
        """The last push of the initiative's branch to the project (``dispatch.pushing``)."""
        with self.unit_of_work() as uow:
            self.projects.record_push(initiative_id, project_id, changes)
            uow.record(EntityChanged("initiative", initiative_id, Action.UPDATED))
