"""Where the runner keeps its files in the data directory (see ``docs/runner.md``).

<data>/projects/<project id>.git        one bare clone per project
<data>/worktrees/<agent id>/<project>   the agent's worktrees
<data>/agents/<agent id>/session-<n>.jsonl   stdout of run n (spawn 1, resumes 2...)
<data>/agents/<agent id>/session-<n>.stderr  its stderr
<data>/agents/<agent id>/session-<n>.exit    its exit code, once it ended
<data>/accounts/<account id>/           the account's private config directory
<data>/merges/<clone>/<branch>/         initiative branches checked out for merging

Every directory here is 0700 and every file the runner writes 0600
(``crosswalk.fsmodes``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from crosswalk.domain.slug import slugify

_SESSION_FILE = re.compile(r"session-(\d+)\.jsonl$")
_SESSION_NAME = re.compile(r"session-([1-9][0-9]{0,8})\.jsonl")


class DataLayout:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir

    @property
    def private_roots(self) -> tuple[Path, ...]:
        """The directories the runner and dispatch keep their files under (0700)."""
        names = ("agents", "worktrees", "projects", "accounts", "merges")
        return tuple(self.root / name for name in names)

    @property
    def worktrees(self) -> Path:
        return self.root / "worktrees"

    def agent_worktrees(self, agent_id: str) -> Path:
        return self.worktrees / agent_id

    def worktree(self, agent_id: str, project_name: str, project_id: str) -> Path:
        return self.agent_worktrees(agent_id) / (slugify(project_name) or project_id)

    def agent_dir(self, agent_id: str) -> Path:
        return self.root / "agents" / agent_id

    def output_file(self, agent_id: str, session: int) -> Path:
        return self.agent_dir(agent_id) / f"session-{session}.jsonl"

    def own_output_file(self, agent_id: str, recorded: str) -> Path | None:
        """The output file ``recorded`` names, if it is one the runner makes for the
        agent: ``session-<n>.jsonl`` in a directory that resolves to the agent's own
        (``agents/`` resolved, then ``<agent id>``, so a symbolic link in its place does
        not count); else None. A path read from the database is only ever used through
        this: it may have been written by anyone who could write the row."""
        path = Path(recorded)
        match = _SESSION_NAME.fullmatch(path.name)
        if not path.is_absolute() or match is None:
            return None
        own = Path(os.path.realpath(self.root / "agents")) / agent_id
        if Path(os.path.realpath(path.parent)) != own:
            return None
        return self.output_file(agent_id, int(match.group(1)))

    def account_dir(self, account_id: str) -> Path:
        return self.root / "accounts" / account_id

    @staticmethod
    def session_of(output_file: str) -> int | None:
        match = _SESSION_FILE.search(output_file)
        return int(match.group(1)) if match else None

    @staticmethod
    def stderr_file(output_file: Path) -> Path:
        return output_file.with_suffix(".stderr")

    @staticmethod
    def exit_file(output_file: Path) -> Path:
        return output_file.with_suffix(".exit")
