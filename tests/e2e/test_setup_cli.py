"""Setting crosswalk up as a new user would: the logins already on the machine become
accounts (`cw account import`), agents spawned then run under them, and `cw serve` says
where it found the agent CLIs. A real server, the real `cw`, the fake agent CLIs."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import agent_in, js, make_plan, ok, runner_server, stop_leftovers
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

OAUTH = {
    "claudeAiOauth": {
        "accessToken": "sk-ant-oat01-imported",
        "refreshToken": "sk-ant-ort01-imported",
        "expiresAt": 4102444800000,
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
    }
}
CLAUDE_SETTINGS = {
    "oauthAccount": {"emailAddress": "dev@example.com", "accountUuid": "u1"},
    "hasCompletedOnboarding": True,
    "projects": {"/home/dev/secret-project": {"history": ["private"]}},
}


@pytest.fixture
def server(tmp_path: Path, fake_agents: FakeAgents) -> Iterator[ServerProcess]:
    for process in runner_server(tmp_path, fake_agents, CW_CODEX_PATH="/nowhere/codex"):
        try:
            yield process
        finally:
            stop_leftovers(process)


def cw(server: ServerProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return server.cw(*args, env=env)


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def id_token(claims: dict[str, Any]) -> str:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def test_serve_says_where_it_found_each_agent_cli(
    server: ServerProcess, fake_agents: FakeAgents
) -> None:
    deadline = time.monotonic() + 10
    while "codex:" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = server.log().splitlines()
    assert f"claude:          {fake_agents.bin_dir / 'claude'}" in lines
    base = server.url.removesuffix("/trpc")
    assert f"MCP tools:       {base}/mcp (agents' bearer tokens; docs/mcp.md)" in lines
    assert (
        "codex:           not found (tried the path '/nowhere/codex' (set by CW_CODEX_PATH)): "
        "install it (npm install -g @openai/codex) or set CW_CODEX_PATH to its path"
    ) in lines


def test_a_claude_login_becomes_an_account_the_agents_run_under(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    home = tmp_path / "person"
    credentials = write_json(home / ".claude" / ".credentials.json", OAUTH)
    write_json(home / ".claude.json", CLAUDE_SETTINGS)  # the default layout: beside ~/.claude

    said = ok(server, "account", "import", env={"HOME": str(home), "CLAUDE_CONFIG_DIR": ""})

    account = js(server, "account", "list")["items"][0]
    assert said.strip() == (
        f"imported claude account dev@example.com ({account['id']}) from {credentials}, "
        f"{home / '.claude.json'}; stored, never shown again"
    )
    assert (account["provider"], account["hasCredentials"], account["hasConfig"]) == (
        "claude",
        True,
        True,
    )
    assert "sk-ant" not in said + json.dumps(account)

    plan = make_plan(server, tmp_path)
    task = plan.task(server, "Hello", fake_agents.script("hi", [{"kind": "result"}]))
    agent = js(server, "agent", "spawn", "--task", task["id"])
    agent_in(server, agent["id"], "idle")
    [call] = fake_agents.calls("claude")
    config_dir = Path(call["env"]["CLAUDE_CONFIG_DIR"])
    assert json.loads((config_dir / ".credentials.json").read_text()) == OAUTH
    settings = json.loads((config_dir / ".claude.json").read_text())
    assert settings["oauthAccount"]["emailAddress"] == "dev@example.com"
    assert "projects" not in settings  # the person's own directories stay home

    OAUTH["claudeAiOauth"]["accessToken"] = "sk-ant-oat01-refreshed"
    write_json(credentials, OAUTH)
    again = ok(server, "account", "import", env={"HOME": str(home), "CLAUDE_CONFIG_DIR": ""})
    assert again.startswith(f"updated claude account dev@example.com ({account['id']})")
    assert len(js(server, "account", "list")["items"]) == 1


def test_a_codex_login_becomes_an_account_named_by_its_token(
    server: ServerProcess, tmp_path: Path
) -> None:
    codex_home = tmp_path / "codex-home"
    auth = {
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": id_token({"email": "ops@example.com", "sub": "u2"}),
            "access_token": "at",
            "refresh_token": "rt",
            "account_id": "acc",
        },
    }
    write_json(codex_home / "auth.json", auth)
    (codex_home / "config.toml").write_text('model = "gpt-5-codex"\n')

    said = ok(
        server, "account", "import", "--provider", "codex", env={"CODEX_HOME": str(codex_home)}
    )

    [account] = js(server, "account", "list", "--provider", "codex")["items"]
    assert said.startswith(f"imported codex account ops@example.com ({account['id']}) from ")
    assert (account["hasCredentials"], account["hasConfig"]) == (True, True)


def test_a_missing_or_broken_login_is_explained_and_nothing_is_stored(
    server: ServerProcess, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".credentials.json").write_text("{not json")
    no_login = write_json(tmp_path / "api-key" / ".credentials.json", {"other": 1}).parent
    bad_toml = tmp_path / "bad-toml"
    write_json(bad_toml / "auth.json", {"tokens": {"id_token": "x"}})
    (bad_toml / "config.toml").write_text("model = \n")
    keyed = write_json(tmp_path / "keyed" / "auth.json", {"OPENAI_API_KEY": "sk-1"}).parent

    cases = [
        (("--from", str(tmp_path / "nowhere")), f"{tmp_path / 'nowhere'} is not a directory"),
        (("--from", str(empty)), f"no Claude Code login in {empty}: .credentials.json is missing"),
        (("--from", str(broken)), f"{broken / '.credentials.json'} is not valid JSON"),
        (("--from", str(no_login)), "holds no Claude Code login (no claudeAiOauth in it)"),
        (("--provider", "codex", "--from", str(empty)), "auth.json is missing"),
        (("--provider", "codex", "--from", str(bad_toml)), "config.toml is not valid TOML"),
        (("--provider", "codex", "--from", str(keyed)), "(no email in it): give one with --email"),
    ]
    for args, message in cases:
        done = cw(server, "account", "import", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert js(server, "account", "list")["items"] == []

    named = ok(server, "account", "import", "--provider", "codex", "--from", str(keyed),
               "--email", "ci@example.com")  # fmt: skip
    assert named.startswith("imported codex account ci@example.com")
