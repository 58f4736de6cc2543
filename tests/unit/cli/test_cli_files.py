"""``cw ask --file`` and ``cw who``: a path typed in a worktree reaches the server
relative to the repository root, with the line when one is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosswalk.cli.errors import RemoteError, UsageError
from crosswalk.cli.repo_paths import file_and_line, repo_relative
from crosswalk.target_kinds import TARGET_KINDS

from .cli_fakes import Cw, conversation


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "wt"
    (root / "src" / "auth").mkdir(parents=True)
    (root / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git is a file
    return root


def test_a_path_in_a_worktree_is_made_relative_to_its_root(worktree: Path) -> None:
    inside = worktree / "src"
    assert repo_relative("auth/token.py", inside) == "src/auth/token.py"
    assert repo_relative("./auth//../auth/token.py", inside) == "src/auth/token.py"
    assert repo_relative(str(worktree / "README.md"), inside) == "README.md"
    assert repo_relative("new/not-yet.py", worktree) == "new/not-yet.py"


def test_outside_any_worktree_a_path_is_taken_as_repository_relative(tmp_path: Path) -> None:
    assert repo_relative("./src/a.py", tmp_path) == "src/a.py"
    with pytest.raises(UsageError, match="not inside a git worktree"):
        repo_relative(str(tmp_path / "a.py"), tmp_path)


def test_a_line_is_split_off_the_path() -> None:
    assert file_and_line("src/a.py:42") == ("src/a.py", 42)
    assert file_and_line("src/a.py") == ("src/a.py", None)
    assert file_and_line("odd:name.py") == ("odd:name.py", None)
    with pytest.raises(UsageError, match="counted from 1"):
        file_and_line("a.py:0")


def test_ask_by_file_sends_the_path_and_line(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(worktree / "src")
    cw = Cw()
    answered = conversation("c1", "answered")
    cw.client.on("conversation.ask", conversation()).on("conversation.waitForAnswer", answered)
    assert cw("ask", "--file", "auth/token.py:42", "why?")[0] == 0
    sent = cw.client.calls[0][2]
    assert (sent["file"], sent["line"]) == ("src/auth/token.py", 42)
    assert not {"toAgentId", "taskId", "phaseId"} & set(sent)


def test_an_ambiguous_file_says_how_to_choose(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(worktree)
    cw = Cw()
    cw.client.on("conversation.ask", RemoteError("CONFLICT", "2 agents changed 'x.py': ...", 409))
    code, _, err = cw("ask", "--file", "x.py", "why?")
    assert code == 1
    assert "name a line (--file PATH:LINE)" in err and "cw who x.py" in err


def test_who_lists_the_owners_newest_first(worktree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(worktree / "src")
    cw = Cw()
    owners = [
        {"agentName": "bob", "taskId": "T2", "taskName": "Tokens", "status": "running",
         "merged": False, "lines": [[7, 9], [12, 12]], "changedAt": "2026-12-01T10:00:00.000Z"},
        {"agentName": "alice", "taskId": "T1", "taskName": None, "status": "idle",
         "merged": True, "lines": [], "changedAt": "2026-11-30T10:00:00.000Z"},
    ]  # fmt: skip
    cw.client.on("file.owners", {"path": "src/auth/token.py", "owners": owners})
    code, out, _ = cw("who", "auth/token.py")
    assert code == 0
    assert cw.client.calls[0][2] == {"path": "src/auth/token.py"}
    bob, alice = (out.index("bob"), out.index("alice"))
    assert bob < alice
    for shown in ("Tokens", "unmerged", "7-9, 12", "merged", "whole file", "cw ask --file"):
        assert shown in out
    cw = Cw()
    cw.client.on("file.owners", {"path": "none.py", "owners": []})
    assert "no agent's work changed none.py" in cw("who", "none.py", "--initiative", "I1")[1]
    assert cw.client.calls[-1][2] == {"path": "src/none.py", "initiativeId": "I1"}


def test_cw_ask_offers_every_kind_of_target_kinds_with_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert Cw()("ask", "--help")[0] == 0
    flat = " ".join(capsys.readouterr().out.split())
    for kind in TARGET_KINDS:
        assert kind.flag in flat and " ".join(kind.help.split()) in flat, kind.kind
