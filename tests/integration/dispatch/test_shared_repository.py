"""Two servers' clones meet in the project's own repository (a bare repository here):
agent branches are pushed there and fetched back, and each server lands on the
initiative branch the project holds, so no landing is lost to another's."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crosswalk.dispatch.merging import GitMerger, MergeRequest, commit_leftovers
from crosswalk.runner.git import GitWorktrees
from crosswalk.runner.ports import ProjectSource

BRANCH = "cw/auth"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "--quiet", "--initial-branch=main")
    (seed / "README.md").write_text("hello\n")
    git(seed, "add", ".")
    git(seed, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "seed")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(seed), str(bare))
    return bare


class Server:
    def __init__(self, home: Path, origin: Path) -> None:
        self.worktrees = GitWorktrees(home, share=True)
        self.merger = GitMerger(root=home / "merges", share=True)
        self.source = ProjectSource("p1", "api", str(origin), "main")
        self.home = home

    def agent(self, name: str, files: dict[str, str]) -> tuple[Path, str]:
        """An agent that wrote ``files`` (left uncommitted) in its worktree here."""
        clone = self.worktrees.prepare(self.source, BRANCH)
        path = self.home / "worktrees" / name
        branch = f"{BRANCH}--{name}"
        self.worktrees.add(clone, path, branch, BRANCH)
        for file, text in files.items():
            (path / file).write_text(text)
        return path, branch

    def land(self, branch: str, worktree: Path | None) -> str | None:
        clone = self.worktrees.prepare(self.source, BRANCH)
        if worktree is None:
            assert self.worktrees.fetch_branch(clone, branch)
        result = self.merger.merge(
            MergeRequest(
                clone=clone,
                initiative_branch=BRANCH,
                agent_branch=branch,
                agent_worktree=worktree,
                message=f"Merge {branch}",
                leftovers_message=f"Leftovers of {branch}",
                base_branch="main",
            )
        )
        return result.commit


def files_on(origin: Path, branch: str) -> list[str]:
    return sorted(git(origin, "ls-tree", "--name-only", branch).split())


def test_landings_on_two_servers_all_reach_the_project(tmp_path: Path, origin: Path) -> None:
    a, b = Server(tmp_path / "a", origin), Server(tmp_path / "b", origin)
    # Both agents start before either lands: each server lands on what the other pushed.
    a_worktree, a_branch = a.agent("otter", {"otter.txt": "o\n"})
    b_worktree, b_branch = b.agent("badger", {"badger.txt": "b\n"})
    assert a.land(a_branch, a_worktree) is not None
    assert b.land(b_branch, b_worktree) is not None
    assert files_on(origin, BRANCH) == ["README.md", "badger.txt", "otter.txt"]
    # A later agent on A starts from everything landed, B's work included.
    c_worktree, _ = a.agent("heron", {})
    assert (c_worktree / "badger.txt").read_text() == "b\n"


def test_a_server_lands_an_agent_another_server_ran(tmp_path: Path, origin: Path) -> None:
    a, b = Server(tmp_path / "a", origin), Server(tmp_path / "b", origin)
    worktree, branch = b.agent("otter", {"otter.txt": "o\n"})
    commit_leftovers(worktree, "leftovers")
    b.worktrees.publish(b.worktrees.clone_path("p1"), branch)
    assert files_on(origin, branch) == ["README.md", "otter.txt"]
    commit = a.land(branch, None)  # A has no worktree of it: fetched from the project
    assert commit is not None
    assert git(origin, "rev-parse", BRANCH).strip() == commit
    assert files_on(origin, BRANCH) == ["README.md", "otter.txt"]


def test_a_push_refused_by_another_landing_is_redone_on_top(
    tmp_path: Path, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = Server(tmp_path / "a", origin), Server(tmp_path / "b", origin)
    a_worktree, a_branch = a.agent("otter", {"otter.txt": "o\n"})
    b_worktree, b_branch = b.agent("badger", {"badger.txt": "b\n"})
    catch_up = GitMerger._catch_up
    raced: list[bool] = []

    def b_lands_meanwhile(self: GitMerger, worktree: Path, branch: str) -> None:
        catch_up(self, worktree, branch)
        if self is a.merger and not raced:  # after A caught up, before A pushes
            raced.append(True)
            assert b.land(b_branch, b_worktree) is not None

    monkeypatch.setattr(GitMerger, "_catch_up", b_lands_meanwhile)
    commit = a.land(a_branch, a_worktree)
    assert raced and commit is not None
    assert git(origin, "rev-parse", BRANCH).strip() == commit
    assert files_on(origin, BRANCH) == ["README.md", "badger.txt", "otter.txt"]
    merges = git(origin, "log", "--merges", "--format=%s", BRANCH).split("\n")
    assert sorted(m for m in merges if m) == sorted([f"Merge {a_branch}", f"Merge {b_branch}"])


def test_agents_placed_together_clone_the_project_once(tmp_path: Path, origin: Path) -> None:
    """Several agents placed on a server at once start at once: the first clone of the
    project and its fetches take turns."""
    server = Server(tmp_path / "a", origin)
    with ThreadPoolExecutor(max_workers=4) as pool:
        clones = list(pool.map(lambda _: server.worktrees.prepare(server.source, BRANCH), range(4)))
    assert len(set(clones)) == 1
    assert git(clones[0], "rev-parse", "--verify", f"refs/heads/{BRANCH}")
