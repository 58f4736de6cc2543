"""The runner's real adapters: git worktrees with the real git, agent processes with real
subprocesses, account directories and transcripts on disk."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.unit.services.test_git_names import INVALID_BRANCHES, VALID_BRANCHES

from crosswalk.domain.errors import PreconditionFailedError
from crosswalk.domain.git_names import branch_name_problem
from crosswalk.runner.git import GitWorktrees, git
from crosswalk.runner.output import read_complete_lines
from crosswalk.runner.ports import LaunchSpec, ProcessHandle, ProjectSource
from crosswalk.runner.processes import OsProcesses, process_start_time
from crosswalk.runner.providers import ClaudeProvider, CodexProvider


def make_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True)
    git("init", "--quiet", "-b", branch, cwd=path)
    (path / "README.md").write_text("hello\n")
    git("add", ".", cwd=path)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one", cwd=path)
    return path


def commit(repo: Path, name: str) -> str:
    (repo / name).write_text(name)
    git("add", ".", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", name, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


# -- git ------------------------------------------------------------------------------


def test_worktrees_from_a_local_clone_on_the_initiative_branch(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin")
    worktrees = GitWorktrees(tmp_path / "data")
    project = ProjectSource("P1", "api", str(origin), "main")

    clone = worktrees.prepare(project, "cw/auth")
    assert clone == tmp_path / "data" / "projects" / "P1.git"
    head = git("rev-parse", "HEAD", cwd=origin).strip()
    assert git("rev-parse", "cw/auth", cwd=clone).strip() == head

    path = tmp_path / "data" / "worktrees" / "A1" / "api"
    worktrees.add(clone, path, "cw/auth--otter", "cw/auth")
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=path).strip() == "cw/auth--otter"
    assert (path / "README.md").read_text() == "hello\n"
    assert worktrees.listed(clone) == [path]

    # A second prepare fetches; the existing initiative branch is left where it is,
    # while the new commit is there for the next initiative.
    newer = commit(origin, "later.txt")
    worktrees.prepare(project, "cw/auth")
    assert git("rev-parse", "cw/auth", cwd=clone).strip() == head
    worktrees.prepare(project, "cw/billing")
    assert git("rev-parse", "cw/billing", cwd=clone).strip() == newer

    (path / "scratch.txt").write_text("uncommitted")
    worktrees.remove(path)
    assert not path.exists()
    assert worktrees.listed(clone) == []
    assert git("rev-parse", "--verify", "--quiet", "cw/auth--otter", cwd=clone).strip()

    worktrees.add(clone, path, "cw/auth--lynx", "cw/auth")
    worktrees.remove(path, delete_branch=True)
    assert not git("branch", "--list", "cw/auth--lynx", cwd=clone).strip()


def test_a_removed_worktree_is_made_again_on_its_branch_at_the_same_path(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin")
    worktrees = GitWorktrees(tmp_path / "data")
    clone = worktrees.prepare(ProjectSource("P1", "api", str(origin), "main"), "cw/auth")
    path = tmp_path / "data" / "worktrees" / "A1" / "api"
    worktrees.add(clone, path, "cw/auth--otter", "cw/auth")
    work = commit(path, "work.txt")
    shutil.rmtree(path)  # gone by hand, unknown to git
    worktrees.restore(clone, path, "cw/auth--otter")
    assert git("rev-parse", "HEAD", cwd=path).strip() == work
    assert (path / "work.txt").read_text() == "work.txt"

    worktrees.remove(path, delete_branch=True)
    with pytest.raises(PreconditionFailedError, match="branch cw/auth--otter is gone"):
        worktrees.restore(clone, path, "cw/auth--otter")


def test_what_changed_in_a_worktree_since_a_state(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "left.txt").write_text("left over")  # dirty before: unchanged later
    (repo / "README.md").write_text("edited before\n")
    worktrees = GitWorktrees(tmp_path / "data")
    before = worktrees.state(repo)
    assert set(before.files) == {"left.txt", "README.md"}
    assert worktrees.changed_since(repo, before) == []

    (repo / "README.md").write_text("edited again\n")  # already dirty, changed again
    (repo / "new dir").mkdir()
    (repo / "new dir" / "notes.txt").write_text("x")
    assert worktrees.changed_since(repo, before) == ["README.md", "new dir/notes.txt"]

    commit(repo, "committed.txt")  # committing moves HEAD: its files count too
    assert "committed.txt" in worktrees.changed_since(repo, before)


def test_a_url_that_cannot_be_cloned_says_what_git_said(tmp_path: Path) -> None:
    worktrees = GitWorktrees(tmp_path / "data")
    missing = ProjectSource("P2", "ghost", str(tmp_path / "nowhere"), "main")
    with pytest.raises(PreconditionFailedError) as caught:
        worktrees.prepare(missing, "cw/x")
    assert "cannot clone project ghost from" in caught.value.message
    assert "does not exist" in caught.value.message
    assert not (tmp_path / "data" / "projects" / "P2.git").exists()


def test_a_missing_default_branch_is_named(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", branch="trunk")
    worktrees = GitWorktrees(tmp_path / "data")
    with pytest.raises(PreconditionFailedError, match="has no branch 'main'"):
        worktrees.prepare(ProjectSource("P3", "api", str(origin), "main"), "cw/x")


def test_values_stored_for_git_reach_it_as_values_never_as_options(tmp_path: Path) -> None:
    """A URL or branch an older version stored unchecked: git is told where its
    options end, so each is taken for what it claims to be and refused as such."""
    origin = make_repo(tmp_path / "origin")
    worktrees = GitWorktrees(tmp_path / "data")
    marker = tmp_path / "pwned"
    evil = ProjectSource("P4", "evil", f"--upload-pack=touch {marker}", "main")
    with pytest.raises(PreconditionFailedError) as caught:
        worktrees.prepare(evil, "cw/x")
    assert f"repository '--upload-pack=touch {marker}' does not exist" in caught.value.message
    assert not marker.exists()

    good = ProjectSource("P5", "api", str(origin), "main")
    with pytest.raises(PreconditionFailedError, match="'--orphan' is not a valid branch name"):
        worktrees.prepare(good, "--orphan")
    with pytest.raises(PreconditionFailedError, match="cannot fetch project api from -h"):
        worktrees.prepare(ProjectSource("P5", "api", "-h", "main"), "cw/x")
    clone = worktrees.clone_path("P5")
    assert git("config", "remote.origin.url", cwd=clone).strip() == "-h"


# -- processes ------------------------------------------------------------------------


def spec(tmp_path: Path, script: str) -> LaunchSpec:
    out = tmp_path / "agent" / "session-1.jsonl"
    return LaunchSpec(
        argv=[sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "MARK": "seen"},
        stdout_path=out,
        stderr_path=out.with_suffix(".stderr"),
        exit_code_path=out.with_suffix(".exit"),
    )


def wait_exit(processes: OsProcesses, handle: ProcessHandle) -> int | None:
    for _ in range(1000):
        ended = processes.poll(handle)
        if ended is not None:
            return ended.code
        time.sleep(0.01)
    raise AssertionError("the process did not end")


def test_a_process_writes_its_output_file_and_its_exit_code_is_recorded(tmp_path: Path) -> None:
    processes = OsProcesses()
    launched = spec(
        tmp_path,
        "import os, sys; print('{\"env\": \"' + os.environ['MARK'] + '\"}'); "
        "print('oops', file=sys.stderr); sys.exit(3)",
    )
    handle = processes.launch(launched)
    assert handle.started_at == process_start_time(handle.pid) or handle.started_at > 0
    assert os.getpgid(handle.pid) == handle.pid  # its own process group
    assert wait_exit(processes, handle) == 3
    assert launched.stdout_path.read_text() == '{"env": "seen"}\n'
    assert launched.stderr_path.read_text() == "oops\n"
    assert launched.exit_code_path.read_text().strip() == "3"


def test_a_process_not_started_here_is_followed_by_pid_and_start_time(tmp_path: Path) -> None:
    launched = spec(tmp_path, "import time; time.sleep(30)")
    first_server = OsProcesses()
    handle = first_server.launch(launched)
    other_server = OsProcesses()  # after a restart: not its child
    assert other_server.poll(handle) is None
    reused = ProcessHandle(handle.pid, handle.started_at + 1, handle.exit_code_path)
    assert other_server.poll(reused) is not None  # same pid, another start: not the agent
    other_server.signal_group(reused, signal.SIGTERM)
    assert other_server.poll(handle) is None  # the stranger's signal went nowhere
    other_server.signal_group(handle, signal.SIGTERM)
    for _ in range(500):
        if other_server.poll(handle) is not None:
            break
        time.sleep(0.01)
    assert other_server.poll(handle) is not None  # a zombie counts as gone
    assert wait_exit(first_server, handle) == -signal.SIGTERM  # reaped by its parent


def test_signal_group_reaches_the_agents_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    processes = OsProcesses()
    handle = processes.launch(spec(tmp_path, script))
    for _ in range(500):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.01)
    child = int(pid_file.read_text())
    processes.signal_group(handle, signal.SIGTERM)
    assert wait_exit(processes, handle) == -signal.SIGTERM
    for _ in range(500):
        if process_start_time(child) is None:
            break
        time.sleep(0.01)
    assert process_start_time(child) is None


def test_process_start_time_of_a_live_and_a_missing_pid() -> None:
    assert isinstance(process_start_time(os.getpid()), int)
    done = subprocess.run(["true"], check=True)
    assert done.returncode == 0
    assert process_start_time(2**22 + 12345) is None


# -- output files ---------------------------------------------------------------------


def test_reading_output_takes_whole_lines_until_the_writer_ends(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert read_complete_lines(path, 0, final=False) == ("", 0)
    path.write_bytes(b'{"a":1}\n{"b":')
    assert read_complete_lines(path, 0, final=False) == ('{"a":1}\n', 8)
    assert read_complete_lines(path, 8, final=False) == ("", 8)
    assert read_complete_lines(path, 8, final=True) == ('{"b":', 13)
    path.write_bytes("é\n".encode())
    assert read_complete_lines(path, 0, final=False) == ("é\n", 3)


# -- transcripts ----------------------------------------------------------------------


def test_claude_carries_a_transcript_to_another_config_dir(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    transcript = source / "projects" / "-work-wt" / "S1.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text('{"x":1}\n')
    (source / "projects" / "-work-wt" / "OTHER.jsonl").write_text("{}\n")
    ClaudeProvider().carry_session("S1", source, target)
    assert (target / "projects" / "-work-wt" / "S1.jsonl").read_text() == '{"x":1}\n'
    assert not (target / "projects" / "-work-wt" / "OTHER.jsonl").exists()


def test_codex_carries_a_thread_to_another_home(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    rollout = source / "sessions" / "2026" / "11" / "29" / "rollout-2026-T1.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text("{}\n")
    CodexProvider().carry_session("T1", source, target)
    assert (target / rollout.relative_to(source)).exists()


def test_a_link_in_a_config_dir_is_not_carried(tmp_path: Path) -> None:
    """The runner reads only what the CLI wrote: a link named like a transcript is left."""
    secret = tmp_path / "admin-token"
    secret.write_text("cw_secret\n")
    source, target = tmp_path / "a", tmp_path / "b"
    planted = source / "projects" / "-work-wt" / "S1.jsonl"
    planted.parent.mkdir(parents=True)
    planted.symlink_to(secret)
    rollout = source / "sessions" / "2026" / "rollout-2026-S1.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.symlink_to(secret)
    ClaudeProvider().carry_session("S1", source, target)
    CodexProvider().carry_session("S1", source, target)
    assert not (target / planted.relative_to(source)).exists()
    assert not (target / rollout.relative_to(source)).exists()


# -- names given to git -----------------------------------------------------------------


def test_the_branch_rule_is_git_check_ref_format_branch(tmp_path: Path) -> None:
    """Outside any repository (so '@' and '@{-N}' are not expanded to a branch), on the
    unit test's names and on every short name over a tricky alphabet."""
    alphabet = "a.-/@{~:*"
    names = {*VALID_BRANCHES, *INVALID_BRANCHES, *alphabet}
    names |= {a + b for a in alphabet for b in alphabet}
    names |= {a + b + c for a in "a./-" for b in "a./@" for c in "a.{/"}
    names |= {"a.lock/b", "a/b.", "x.lock.y", "-", "@@", "a@{", "@{"}
    names.discard("")
    disagreements = []
    for name in sorted(names):
        done = subprocess.run(
            ["git", "check-ref-format", "--branch", name],
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )
        if (done.returncode == 0) != (branch_name_problem(name) is None):
            disagreements.append((name, done.returncode, branch_name_problem(name)))
    assert disagreements == []
