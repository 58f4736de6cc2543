"""Landing the merged work in the person's own repositories: pushing the initiative branch.

The initiative branch lives in the server's clone of each project (``<data>/projects``),
whose ``origin`` is the project's URL. ``push`` sends it there under the same name,
never forced: a remote branch that moved on its own (commits the server's branch does
not have) is refused, naming it, and left alone. With ``autoPush`` on, landing pushes
after every merge; its failures are recorded on the project's link (``pushError``) and
logged, not raised, since the merge itself went through.

Git runs in a worker thread; the record of each push is written through
``DocumentService`` (``initiative_projects.pushed_commit``, ``pushed_at``,
``push_error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from crosswalk.db.repositories import InitiativeRepository
from crosswalk.domain.errors import (
    ConflictError,
    CrosswalkError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import Initiative, PushUpdate
from crosswalk.domain.timestamps import utcnow
from crosswalk.services.documents import DocumentService

logger = logging.getLogger("crosswalk.dispatch")

GIT_TIMEOUT_S = 300.0
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}

PUSHED = "pushed"
UP_TO_DATE = "up_to_date"
NOTHING_YET = "nothing_yet"  # no agent has started: the branch is not in the clone yet
DIVERGED = "diverged"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PushTarget:
    """One project of an initiative: where its branch is and where it goes."""

    project_id: str
    project: str  # the project's name
    url: str
    clone: Path  # the server's clone
    branch: str  # the initiative branch


@dataclass(frozen=True, slots=True)
class PushResult:
    target: PushTarget
    status: str  # pushed, up_to_date, nothing_yet, diverged, failed
    commit: str | None  # the commit the remote branch is at after a push that went
    message: str  # one line for a person


class Pusher(Protocol):
    def push(self, target: PushTarget) -> PushResult: ...


class Clones(Protocol):
    def push_targets(self, initiative: Initiative) -> Sequence[PushTarget]:
        """Per project linked to the initiative, its clone and the initiative branch."""
        ...


class GitPusher:
    """Pushes with the ``git`` executable."""

    def __init__(self, git: str = "git") -> None:
        self._git_path = git

    def push(self, target: PushTarget) -> PushResult:
        ref = f"refs/heads/{target.branch}"
        if not target.clone.is_dir() or not self._has(target.clone, ref):
            return PushResult(
                target,
                NOTHING_YET,
                None,
                f"nothing to push to {target.project} yet: the branch {target.branch} is made "
                "in the server's clone when the first agent starts",
            )
        # "--": the URL and the branch are taken for what they are, never for options
        self._git(target.clone, "remote", "set-url", "--", "origin", target.url)
        commit = self._git(target.clone, "rev-parse", "--verify", ref).stdout.strip()
        done = self._git(
            target.clone, "push", "--porcelain", "--", "origin", f"{commit}:{ref}", check=False
        )
        flag, summary = _porcelain(done.stdout, ref)
        where = f"{target.branch} at {target.url} (project {target.project})"
        if flag == "=":
            return PushResult(target, UP_TO_DATE, commit, f"{where} was already at {commit[:12]}")
        if flag in (" ", "*") and done.returncode == 0:
            return PushResult(target, PUSHED, commit, f"pushed {commit[:12]} to {where}")
        if flag == "!" and ("non-fast-forward" in summary or "fetch first" in summary):
            return PushResult(
                target,
                DIVERGED,
                None,
                f"refused to push to {where}: that branch has diverged (it has commits the "
                f"server's {target.branch} does not); crosswalk never force-pushes. Look at "
                f"it with: git fetch {target.url} {target.branch}; then merge it into the "
                "initiative branch, or delete or rename the remote branch, and push again",
            )
        reason = summary or (done.stderr or done.stdout).strip() or f"exit code {done.returncode}"
        return PushResult(target, FAILED, None, f"cannot push to {where}: {reason}")

    def _has(self, clone: Path, ref: str) -> bool:
        return (
            self._git(clone, "rev-parse", "--verify", "--quiet", ref, check=False).returncode == 0
        )

    def _git(self, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                [self._git_path, *args],
                cwd=cwd,
                env={**os.environ, **_GIT_ENV},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            raise PreconditionFailedError(
                "git is not installed on the server (not found on its PATH)"
            ) from None
        except subprocess.TimeoutExpired:
            raise PreconditionFailedError(
                f"git {args[0]} took longer than {GIT_TIMEOUT_S:g} s"
            ) from None
        if check and done.returncode != 0:
            raise PreconditionFailedError(f"git {args[0]} failed in {cwd}: {done.stderr.strip()}")
        return done


def _porcelain(out: str, ref: str) -> tuple[str | None, str]:
    """The flag and summary ``git push --porcelain`` printed for ``ref``."""
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].endswith(f":{ref}"):
            return parts[0][:1], parts[2].strip()
    return None, ""


@dataclass(slots=True)
class PushService:
    initiatives: InitiativeRepository
    documents: DocumentService
    clones: Clones
    pusher: Pusher
    now: Callable[[], datetime] = field(default=utcnow)

    async def push(self, initiative_id: str, project: str | None = None) -> list[PushResult]:
        """``push_now`` in a worker thread: git and the reads and writes around it stay
        off the event loop."""
        return await asyncio.to_thread(self.push_now, initiative_id, project)

    def push_now(self, initiative_id: str, project: str | None = None) -> list[PushResult]:
        """Push the initiative branch to every linked project (or the one named, by id
        or name) and record each push. A push that was refused or failed is raised
        (CONFLICT when a remote branch diverged) after the others went, naming each.
        Blocking."""
        initiative = self.initiatives.get(initiative_id)
        targets = list(self.clones.push_targets(initiative))
        if not targets:
            raise PreconditionFailedError(
                f"initiative {initiative.name} ({initiative.id}) has no project to push to; "
                f"link one with: cw project link {initiative.id} PROJECT_ID"
            )
        if project is not None:
            targets = [t for t in targets if project in (t.project_id, t.project)]
            if not targets:
                raise NotFoundError(
                    "project",
                    project,
                    f"project '{project}' is not linked to initiative {initiative.name} "
                    f"({initiative.id})",
                )
        results = []
        for target in targets:
            result = self.pusher.push(target)
            self._record(initiative.id, result)
            results.append(result)
        failed = [r for r in results if r.status in (DIVERGED, FAILED)]
        if failed:
            text = "; ".join(r.message for r in results)
            if any(r.status == DIVERGED for r in failed):
                raise ConflictError(text)
            raise PreconditionFailedError(text)
        return results

    async def after_merge(self, initiative_id: str) -> None:
        """Push when the initiative says so (``autoPush``); a failure is recorded and
        logged, and the merge stands."""
        initiative = await asyncio.to_thread(self.initiatives.find_by_id, initiative_id)
        if initiative is None or not initiative.auto_push:
            return
        try:
            await self.push(initiative_id)
        except CrosswalkError as exc:
            logger.warning("initiative %s: auto-push: %s", initiative_id, exc.message)

    def _record(self, initiative_id: str, result: PushResult) -> None:
        changes: PushUpdate
        if result.status in (PUSHED, UP_TO_DATE):
            changes = {"pushed_commit": result.commit, "pushed_at": self.now(), "push_error": None}
        elif result.status in (DIVERGED, FAILED):
            changes = {"push_error": result.message}
        else:
            return
        with contextlib.suppress(NotFoundError):  # unlinked meanwhile: nothing to keep
            self.documents.record_push(initiative_id, result.target.project_id, changes)
