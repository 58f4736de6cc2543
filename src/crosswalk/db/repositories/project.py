"""Port: projects (git repositories) and which initiatives use them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    InitiativeProjectsChange,
    NewProject,
    Paged,
    Project,
    ProjectPush,
    ProjectUpdate,
    PushUpdate,
    Removal,
)


class ProjectRepository(Protocol):
    def create(self, data: NewProject) -> Project:
        """Insert; a taken name or url is ``ConflictError``."""
        ...

    def find_by_id(self, id: str) -> Project | None: ...

    def get(self, id: str) -> Project: ...

    def find_by_name(self, name: str) -> Project | None: ...

    def find_all(self) -> list[Project]: ...

    def list_page(
        self, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Paged[Project]: ...

    def update(self, id: str, changes: ProjectUpdate) -> Project: ...

    def delete(self, id: str) -> Removal: ...

    def set_initiative_projects(
        self, initiative_id: str, project_ids: Iterable[str]
    ) -> InitiativeProjectsChange:
        """Make the initiative's projects exactly ``project_ids``: insert the missing
        links, delete the dropped ones, leave the rest untouched."""
        ...

    def add_project_to_initiative(self, initiative_id: str, project_id: str) -> None: ...

    def remove_project_from_initiative(self, initiative_id: str, project_id: str) -> None: ...

    def find_projects_by_initiative_id(self, initiative_id: str) -> list[Project]: ...

    def find_pushes(self, initiative_id: str) -> list[ProjectPush]:
        """The initiative's projects (by name) with the last push of its branch to each."""
        ...

    def record_push(self, initiative_id: str, project_id: str, changes: PushUpdate) -> None:
        """Record a push on the link; ``NotFoundError`` when the project is not linked."""
        ...
