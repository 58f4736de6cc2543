"""The real Claude Code and Codex CLIs from npm (tests/agents/node_modules), run offline.

``make setup`` installs them from tests/agents/package-lock.json. Helpers here build the
environment that points each CLI at a local stand-in model API with a private, temporary
config directory, so nothing leaves the machine and nothing of the user's is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NODE_BIN = Path(__file__).resolve().parent / "node_modules" / ".bin"
CLAUDE = NODE_BIN / "claude"
CODEX = NODE_BIN / "codex"
MISSING_REASON = (
    "the pinned agent CLIs are not installed: run `make setup` (npm ci in tests/agents)"
)
CODEX_KEY_ENV = "CW_STANDIN_OPENAI_KEY"
CODEX_MODEL = "gpt-5-codex"
RUN_TIMEOUT_S = 90.0


def installed(executable: Path) -> bool:
    return executable.exists() and os.access(executable, os.X_OK)


def base_env(home: Path) -> dict[str, str]:
    """PATH and locale from this process, a private HOME, nothing else of the user's."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TERM") if name in os.environ
    }
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    return env


def claude_env(
    standin_url: str,
    home: Path,
    *,
    api_key: str | None = "test-key",
    oauth_token: str | None = None,
    config_dir: Path | None = None,
) -> dict[str, str]:
    """Environment for the real `claude` against the Anthropic stand-in.

    With ``oauth_token``, credentials are written as a subscription (OAuth) login in the
    config dir, sent as ``Authorization: Bearer``; otherwise ``api_key`` goes in
    ANTHROPIC_API_KEY (sent as ``x-api-key``).
    """
    env = base_env(home)
    directory = config_dir or home / ".claude"
    directory.mkdir(parents=True, exist_ok=True)
    env.update(
        ANTHROPIC_BASE_URL=standin_url,
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        CLAUDE_CONFIG_DIR=str(directory),
    )
    if os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"
    if oauth_token is not None:
        write_oauth_credentials(directory, oauth_token)
    elif api_key is not None:
        env["ANTHROPIC_API_KEY"] = api_key
    return env


def write_oauth_credentials(config_dir: Path, access_token: str) -> None:
    credentials = {
        "claudeAiOauth": {
            "accessToken": access_token,
            "refreshToken": f"refresh-{access_token}",
            "expiresAt": int((time.time() + 86400) * 1000),
            "scopes": ["user:inference", "user:profile"],
            "subscriptionType": "max",
        }
    }
    path = config_dir / ".credentials.json"
    path.write_text(json.dumps(credentials))
    path.chmod(0o600)


def codex_env(standin_url: str, home: Path, *, api_key: str = "test-key") -> dict[str, str]:
    """Environment for the real `codex` with a mock provider pointing at the OpenAI stand-in."""
    env = base_env(home)
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        f'model = "{CODEX_MODEL}"\n'
        'model_provider = "mock"\n'
        'approval_policy = "never"\n'
        "\n[model_providers.mock]\n"
        'name = "mock"\n'
        f'base_url = "{standin_url}/v1"\n'
        f'env_key = "{CODEX_KEY_ENV}"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
    )
    env["CODEX_HOME"] = str(codex_home)
    env[CODEX_KEY_ENV] = api_key
    return env


@dataclass
class Run:
    """One finished CLI run: its exit code, its JSON lines, and its stderr."""

    returncode: int
    lines: list[dict[str, Any]]
    stdout: str
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("type") == kind]


def run_cli(
    argv: Sequence[str | Path], cwd: Path, env: dict[str, str], timeout: float = RUN_TIMEOUT_S
) -> Run:
    """Run an agent CLI (real or fake) to the end with stdin closed, parse its JSON lines."""
    completed = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = []
    for raw in completed.stdout.splitlines():
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return Run(completed.returncode, lines, completed.stdout, completed.stderr)
