"""The test side of the fake agents: put them on PATH, give them scripts, read what they did."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agents import scripts

BIN_DIR = Path(__file__).resolve().parent / "bin"
FAKE_CLAUDE = BIN_DIR / "claude"
FAKE_CODEX = BIN_DIR / "codex"


def script_key(name: str) -> str:
    """The line to put in a task description (or prompt) so the fake runs script NAME."""
    return f"fake-script: {name}"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class FakeAgents:
    """One test's fake `claude` and `codex`: their scripts directory and what they logged."""

    scripts_dir: Path

    def __post_init__(self) -> None:
        self.scripts_dir.mkdir(parents=True, exist_ok=True)

    @property
    def bin_dir(self) -> Path:
        return BIN_DIR

    def script(
        self,
        name: str,
        *runs: list[dict[str, Any]],
        on_stop_block: list[dict[str, Any]] | None = None,
        max_stop_blocks: int | None = None,
    ) -> str:
        """Write script NAME (first run, then each resume); returns the prompt key line."""
        data: dict[str, Any] = {"runs": list(runs)}
        if on_stop_block is not None:
            data["on_stop_block"] = on_stop_block
        if max_stop_blocks is not None:
            data["max_stop_blocks"] = max_stop_blocks
        scripts.parse_script(name, data)
        (self.scripts_dir / f"{name}.json").write_text(json.dumps(data, indent=2))
        return script_key(name)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment with the fakes first on PATH and pointed at this scripts dir."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
        env[scripts.SCRIPTS_ENV] = str(self.scripts_dir)
        return env

    def calls(self, cli: str | None = None) -> list[dict[str, Any]]:
        """Every invocation: argv, cwd, pid, env (selected), session_id, script, run_index."""
        records = read_jsonl(self.scripts_dir / scripts.CALLS_FILE)
        return [r for r in records if cli is None or r["cli"] == cli]

    def seen(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Context the fakes received from hooks: cli, session_id, agent_id, event, text."""
        records = read_jsonl(self.scripts_dir / scripts.SEEN_FILE)
        return [r for r in records if session_id is None or r["session_id"] == session_id]
