"""``make screenshots``: the dashboard with realistic data, photographed in Chromium.

Starts a real server in a temporary data directory, fills it through the API as
agents and the person would (an initiative with phases and dependent tasks in every
state, agents with results and logs, conversations, questions to the person, an
exhausted account, and one task whose agent, the fake ``claude`` run by the server in a
real git worktree, left work waiting for approval), then saves the overview, the
initiative graph, the inbox, that task's page and an agent's page at a laptop and a
phone width:

    python -m tests.support.screenshots docs/screenshots
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.agents.kit import FakeAgents
from tests.agents.scripts import SCRIPTS_ENV
from tests.support.browser import MISSING, chromium_available, dashboard_url, open_browser, sign_in
from tests.support.server import ServerProcess

LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _log(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


ROUTES_BEFORE = """from api.app import app


@app.get("/health")
def health():
    return {"ok": True}
"""
ROUTES_AFTER = """from api.app import app
from api.login import login


@app.get("/health")
def health():
    return {"ok": True}


app.post("/login")(login)
"""
LOGIN = """from api.tokens import issue


def login(email: str, password: str) -> dict:
    user = users.find(email)
    if user is None or not user.check(password):
        raise Unauthorized("wrong email or password")
    return {"token": issue(user.id, ttl_s=3600)}
"""
LOGIN_TEST = """def test_a_wrong_password_is_refused(client):
    answer = client.post("/login", json={"email": "a@b.c", "password": "no"})
    assert answer.status_code == 401
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Team", "-c", "user.email=team@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def project_repository(root: Path) -> Path:
    """The team's repository, bare as it is hosted, with a small API in it."""
    seed_dir = root / "seed"
    (seed_dir / "api").mkdir(parents=True)
    (seed_dir / "api" / "routes.py").write_text(ROUTES_BEFORE)
    (seed_dir / "README.md").write_text("# api\n")
    git(seed_dir, "init", "--quiet", "-b", "main")
    git(seed_dir, "add", ".")
    git(seed_dir, "commit", "--quiet", "-m", "start")
    bare = root / "api.git"
    git(root, "clone", "--quiet", "--bare", str(seed_dir), str(bare))
    return bare


def seed(server: ServerProcess, fake_agents: FakeAgents, repository: Path) -> dict[str, str]:
    """Realistic data through the API; returns the ids the pages need."""
    call = server.call
    initiative = call("mutation", "initiative.create", {"name": "Auth rewrite"})["id"]
    project = call("mutation", "project.create", {"name": "api", "url": str(repository)})["id"]
    call("mutation", "project.addToInitiative", {"initiativeId": initiative, "projectId": project})
    call(
        "mutation", "initiative.create", {"name": "Billing exports", "mergeRequiresApproval": False}
    )
    backend = call("mutation", "phase.create", {"initiativeId": initiative, "name": "Backend"})[
        "id"
    ]
    frontend = call("mutation", "phase.create", {"initiativeId": initiative, "name": "Frontend"})[
        "id"
    ]
    call("mutation", "phase.addDependency", {"phaseId": frontend, "dependsOnPhaseId": backend})

    def task(name: str, phase: str, status: str, *after: str, description: str = "") -> str:
        created = call(
            "mutation",
            "task.create",
            {"name": name, "phaseId": phase, "status": status, "description": description},
        )
        for dep in after:
            call(
                "mutation", "task.addDependency", {"taskId": created["id"], "dependsOnTaskId": dep}
            )
        return str(created["id"])

    schema = task("Session schema", backend, "completed")
    tokens = task("Token service", backend, "in_progress", schema)
    revoke = task("Revocation list", backend, "in_progress", schema)
    fake_agents.script(
        "login",
        [
            {"kind": "write", "path": "api/login.py", "content": LOGIN},
            {"kind": "write", "path": "api/routes.py", "content": ROUTES_AFTER},
            {"kind": "write", "path": "tests/test_login.py", "content": LOGIN_TEST},
            {"kind": "result", "text": "POST /login issues a token", "usage": {
                "total_cost_usd": 0.84, "input_tokens": 2_310, "output_tokens": 1_870,
                "cache_creation_input_tokens": 9_400, "cache_read_input_tokens": 61_200}},
        ],
    )  # fmt: skip
    login = task(
        "Login API",
        backend,
        "pending",
        tokens,
        description="POST /login checks the password and issues a token.\nfake-script: login",
    )
    task("Rate limits", backend, "blocked", tokens)
    form = task("Sign-in form", frontend, "pending", login)
    task("Session expiry banner", frontend, "pending", form, revoke)

    now = datetime.now(UTC)
    main_account = call("mutation", "account.create", {"email": "team@example.com"})["id"]
    spare = call("mutation", "account.create", {"email": "spare@example.com"})["id"]
    call(
        "mutation",
        "account.markExhausted",
        {"id": spare, "until": (now + timedelta(hours=3)).isoformat()},
    )

    def agent(name: str, task_id: str, status: str) -> dict[str, Any]:
        return server.create_agent(
            name=name,
            taskId=task_id,
            worktreeId=f"../wt-{name}",
            status=status,
            accountId=main_account,
        )

    otter = agent("brave-otter", tokens, "running")
    heron = agent("swift-heron", revoke, "running")
    badger = agent("calm-badger", schema, "stopped")
    call(
        "mutation",
        "agent.update",
        {
            "id": badger["id"],
            "result": {"numTurns": 41, "totalCostUsd": 2.87, "durationMs": 1_312_000},
        },
    )
    call(
        "mutation",
        "log.append",
        {
            "agentId": otter["id"],
            "content": _log(
                {"type": "system", "subtype": "init", "session_id": "s1"},
                {
                    "type": "assistant",
                    "message": {
                        "content": [
                            {"type": "text", "text": "I'll add the token table first."},
                            {
                                "type": "tool_use",
                                "name": "Bash",
                                "input": {"command": "alembic revision -m tokens"},
                            },
                        ]
                    },
                },
                {
                    "type": "user",
                    "message": {
                        "content": [
                            {"type": "tool_result", "content": "Generating 0002_tokens.py ... done"}
                        ]
                    },
                },
            ),
        },
        token=otter["token"],
    )

    conversation = call(
        "mutation",
        "conversation.ask",
        {
            "fromAgentId": heron["id"],
            "toAgentId": "brave-otter",
            "question": "Which claim carries the session id in the new tokens?",
        },
        token=heron["token"],
    )
    call(
        "mutation",
        "conversation.answer",
        {"id": conversation["id"], "answer": "`sid`, a 21-character id; see tokens.py."},
        token=otter["token"],
    )
    call(
        "mutation",
        "conversation.ask",
        {
            "fromAgentId": otter["id"],
            "taskId": revoke,
            "question": "Is the revocation list in Redis or SQL?",
        },
        token=otter["token"],
    )
    call(
        "mutation",
        "message.askUser",
        {
            "agentId": otter["id"],
            "content": "May I drop the legacy sessions table once tokens ship?",
        },
        token=otter["token"],
    )
    call(
        "mutation",
        "message.askUser",
        {
            "agentId": heron["id"],
            "content": "Should revoked tokens stay listed for 24 h or until they expire?",
        },
        token=heron["token"],
    )
    call(
        "mutation",
        "log.append",
        {
            "agentId": otter["id"],
            "sessionNumber": 2,
            "content": _log(
                {
                    "type": "assistant",
                    "message": {"content": [{"type": "text", "text": "Back on the token table."}]},
                },
            ),
        },
        token=otter["token"],
    )
    call(
        "mutation",
        "agent.tell",
        {"id": otter["id"], "message": "Keep the refresh tokens in the same table."},
    )
    call(
        "mutation",
        "agent.checkIn",
        {"agentId": otter["id"], "activity": "tool", "takeMessages": True},
        token=otter["token"],
    )  # its hook took the first one
    call("mutation", "agent.tell", {"id": otter["id"], "message": "And add a migration test."})
    # the server runs the (fake) agent in a real worktree; its work waits for approval
    call("mutation", "agent.spawn", {"taskId": login})
    deadline = time.monotonic() + 60
    while call("query", "task.get", {"id": login})["status"] != "pending_approval":
        if time.monotonic() > deadline:
            raise RuntimeError("the Login API agent did not finish within 60 s")
        time.sleep(0.2)
    # where the team hosts it, as the page would show it (the clone is made by now)
    call("mutation", "project.update", {"id": project, "url": "https://git.example.com/api.git"})
    return {"initiative": initiative, "task": login, "agent": otter["id"]}


def capture(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory(prefix="cw-screenshots-") as work:
        fake_agents = FakeAgents(Path(work) / "fake-agent-scripts")
        env = {
            key: value
            for key, value in fake_agents.env().items()
            if not key.startswith("CW_") or key == SCRIPTS_ENV
        }
        server = ServerProcess(home=Path(work) / "home", server_env=env).start()
        try:
            ids = seed(server, fake_agents, project_repository(Path(work)))
            pages = {
                "overview": "/",
                "initiative": f"/initiatives/{ids['initiative']}",
                "inbox": "/inbox",
                "task": f"/tasks/{ids['task']}",
                "agent": f"/agents/{ids['agent']}",
            }
            for size_name, size in (("", LAPTOP), ("-phone", PHONE)):
                profile = Path(work) / f"profile{size_name}"
                with open_browser(profile, width=size["width"], height=size["height"]) as context:
                    page = context.new_page()
                    sign_in(page, server)
                    for name, path in pages.items():
                        page.goto(dashboard_url(server, path))
                        page.wait_for_load_state("load")
                        page.wait_for_timeout(500)  # the live region's first refresh
                        target = out_dir / f"{name}{size_name}.png"
                        page.screenshot(path=str(target), full_page=True)
                        saved.append(target)
        finally:
            server.close()
    return saved


def main(argv: list[str]) -> int:
    if not chromium_available():
        print(f"cannot take screenshots: {MISSING}", file=sys.stderr)
        return 1
    out_dir = Path(argv[0]) if argv else Path("docs/screenshots")
    for path in capture(out_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
