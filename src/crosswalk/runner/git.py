"""Git worktrees under the data directory, with the real ``git``.

Each project has one bare clone, ``<data>/projects/<project id>.git``, whose
``origin`` is the project's URL (any URL ``git clone`` accepts, a local path
included). Remote branches are fetched to ``refs/remotes/origin/*`` so a fetch
never touches the branches crosswalk made locally. ``docs/runner.md`` has the layout.

Every value from the database (a URL, a branch, a path) follows ``--``, where git stops
reading options, so a value that starts with ``-`` is taken for what it claims to be;
refs are given in full (``refs/heads/...``), which no option starts with. The services
refuse such values on input too (``crosswalk.domain.git_names``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from crosswalk.domain.errors import PreconditionFailedError
from crosswalk.fsmodes import PRIVATE_DIR, private_dir
from crosswalk.runner.ports import ProjectSource, WorktreeState

GIT_TIMEOUT_S = 600.0
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(PreconditionFailedError):
    """A git command failed; the message carries git's own."""


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    """Run git; return stdout. Raises ``GitError`` with git's message."""
    env = {**os.environ, **_GIT_ENV}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except FileNotFoundError:
        raise GitError("git is not installed on the server (not found on its PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT_S:g} s") from None
    if check and done.returncode != 0:
        message = (done.stderr or done.stdout).strip()
        raise GitError(f"git {args[0]} failed: {message}")
    return done.stdout


_CLONE_LOCKS: dict[Path, threading.Lock] = {}
_CLONE_LOCKS_GUARD = threading.Lock()


def clone_lock(clone: Path) -> threading.Lock:
    """The lock of every git call that changes ``clone``'s refs or worktrees: a fetch
    checks every worktree's ``HEAD``, which ``git worktree add`` writes before it is
    valid, and two first clones of one project collide. Agents placed on a server
    together start together, while landings fetch and push."""
    with _CLONE_LOCKS_GUARD:
        return _CLONE_LOCKS.setdefault(clone, threading.Lock())


class GitWorktrees:
    """``share``: the project's own repository is where the servers of a deployment
    meet (docs/deploy.md): an agent starts from the project's copy of the initiative
    branch, and agent branches are pushed there and fetched back."""

    def __init__(self, data_dir: Path, *, share: bool = False) -> None:
        self._projects = data_dir / "projects"
        self._share = share

    def clone_path(self, project_id: str) -> Path:
        return self._projects / f"{project_id}.git"

    def prepare(self, project: ProjectSource, initiative_branch: str) -> Path:
        clone = self.clone_path(project.id)
        with clone_lock(clone):
            return self._prepare(clone, project, initiative_branch)

    def _prepare(self, clone: Path, project: ProjectSource, initiative_branch: str) -> Path:
        if not (clone / "HEAD").exists():
            self._clone(project, clone)
        else:
            git("remote", "set-url", "--", "origin", project.url, cwd=clone)
        try:
            git("fetch", "--quiet", "--prune", "origin", cwd=clone)
        except GitError as exc:
            raise GitError(
                f"cannot fetch project {project.name} from {project.url}: {exc.message}"
            ) from None
        if self._share:
            self._catch_up(clone, initiative_branch)
        if not self._has_ref(clone, f"refs/heads/{initiative_branch}"):
            start = self._default_start(clone, project)
            git("branch", "--no-track", "--", initiative_branch, start, cwd=clone)
        return clone

    def _catch_up(self, clone: Path, branch: str) -> None:
        """A server new to the initiative takes its branch from the project (where the
        other servers landed). An existing local branch moves only in merges, under the
        merger's lock (``dispatch.merging``): agents start from the project's copy."""
        remote = f"refs/remotes/origin/{branch}"
        local = f"refs/heads/{branch}"
        if self._has_ref(clone, remote) and not self._has_ref(clone, local):
            git("update-ref", local, remote, cwd=clone)

    def publish(self, clone: Path, branch: str) -> None:
        """Push the agent's ``branch`` to the project, replacing the copy there (the
        branch is the agent's own: only its server writes it)."""
        ref = f"refs/heads/{branch}"
        try:
            with clone_lock(clone):
                git("push", "--quiet", "--force", "origin", f"{ref}:{ref}", cwd=clone)
        except GitError as exc:
            raise GitError(f"cannot push the agent branch {branch}: {exc.message}") from None

    def fetch_branch(self, clone: Path, branch: str) -> bool:
        """Make the local ``branch`` the project's copy of it (pushed by the server that
        ran the agent); False when the project has none."""
        remote = f"refs/remotes/origin/{branch}"
        with clone_lock(clone):
            if not self._has_ref(clone, remote):
                return False
            git("update-ref", f"refs/heads/{branch}", remote, cwd=clone)
        return True

    def _clone(self, project: ProjectSource, clone: Path) -> None:
        private_dir(self._projects)
        partial = clone.with_name(clone.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            git("clone", "--quiet", "--bare", "--", project.url, str(partial))
        except GitError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise GitError(
                f"cannot clone project {project.name} from {project.url}: {exc.message}"
            ) from None
        git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=partial)
        partial.chmod(PRIVATE_DIR)  # git made it by the umask
        partial.rename(clone)

    def _default_start(self, clone: Path, project: ProjectSource) -> str:
        for ref in (
            f"refs/remotes/origin/{project.default_branch}",
            f"refs/heads/{project.default_branch}",
        ):
            if self._has_ref(clone, ref):
                return ref
        raise GitError(
            f"project {project.name} has no branch {project.default_branch!r} at "
            f"{project.url}; set its default branch with: cw project update {project.id} "
            "--default-branch BRANCH"
        )

    @staticmethod
    def _has_ref(clone: Path, ref: str) -> bool:
        return bool(git("rev-parse", "--verify", "--quiet", ref, cwd=clone, check=False).strip())

    def add(self, clone: Path, path: Path, branch: str, start: str) -> None:
        private_dir(path.parent)
        if self._share and self._has_ref(clone, f"refs/remotes/origin/{start}"):
            # What every server landed, never a landing of this one still unpushed.
            start = f"refs/remotes/origin/{start}"
        with clone_lock(clone):
            git("worktree", "add", "--quiet", "-b", branch, "--", str(path), start, cwd=clone)

    def remove(self, path: Path, *, delete_branch: bool = False) -> None:
        if not (path / ".git").exists():
            shutil.rmtree(path, ignore_errors=True)
            return
        common = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=path).strip()
        branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=path, check=False).strip()
        clone = Path(common)
        git("worktree", "remove", "--force", "--force", "--", str(path), cwd=clone)
        git("worktree", "prune", cwd=clone)
        if delete_branch and branch and branch != "HEAD":
            git("branch", "-D", "--", branch, cwd=clone, check=False)

    def listed(self, clone: Path) -> list[Path]:
        out = git("worktree", "list", "--porcelain", cwd=clone)
        paths = [
            Path(line[len("worktree ") :])
            for line in out.splitlines()
            if line.startswith("worktree ")
        ]
        return [path for path in paths if path.resolve() != clone.resolve()]

    def restore(self, clone: Path, path: Path, branch: str) -> None:
        private_dir(path.parent)
        git("worktree", "prune", cwd=clone)
        if not self._has_ref(clone, f"refs/heads/{branch}"):
            raise GitError(
                f"the branch {branch} is gone from {clone}, so the worktree cannot be made again"
            )
        with clone_lock(clone):
            git("worktree", "add", "--quiet", "--", str(path), branch, cwd=clone)

    def state(self, path: Path) -> WorktreeState:
        head = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=path, check=False).strip()
        listed = git("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=path)
        paths = _status_paths(listed)
        present = [name for name in paths if (path / name).is_file()]
        hashes = git("hash-object", "--", *present, cwd=path).split() if present else []
        files = dict.fromkeys(paths, "")
        files.update(zip(present, hashes, strict=True))
        return WorktreeState(head, files)

    def changed_since(self, path: Path, before: WorktreeState) -> list[str]:
        after = self.state(path)
        changed = {
            name
            for name in before.files.keys() | after.files.keys()
            if before.files.get(name) != after.files.get(name)
        }
        if before.head and after.head and before.head != after.head:
            committed = git("diff", "--name-only", "-z", before.head, after.head, "--", cwd=path)
            changed.update(name for name in committed.split("\0") if name)
        return sorted(changed)


def _status_paths(porcelain: str) -> list[str]:
    """The paths of ``git status --porcelain=v1 -z`` (a rename's old path follows its
    new one as a field of its own, and is a changed path too)."""
    fields = porcelain.split("\0")
    paths: list[str] = []
    index = 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # renamed or copied: the source path comes next
            paths.append(fields[index])
            index += 1
    return paths
