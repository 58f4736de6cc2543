"""``make screenshots``: the dashboard with realistic data, photographed in Chromium.

Starts a real server in a temporary data directory, fills it through the API as
agents and the person would (an initiative with phases and dependent tasks in every
state, agents with results and logs, conversations, questions to the person, an
exhausted account), then saves the overview, the initiative graph, the inbox and an
agent's page at a laptop and a phone width:

    python -m tests.support.screenshots docs/screenshots
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.browser import MISSING, chromium_available, dashboard_url, open_browser, sign_in
from tests.support.server import ServerProcess

LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _log(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


def seed(server: ServerProcess) -> dict[str, str]:
    """Realistic data through the API; returns the ids the pages need."""
    call = server.call
    initiative = call("mutation", "initiative.create", {"name": "Auth rewrite"})["id"]
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

    def task(name: str, phase: str, status: str, *after: str) -> str:
        created = call(
            "mutation", "task.create", {"name": name, "phaseId": phase, "status": status}
        )
        for dep in after:
            call(
                "mutation", "task.addDependency", {"taskId": created["id"], "dependsOnTaskId": dep}
            )
        return str(created["id"])

    schema = task("Session schema", backend, "completed")
    tokens = task("Token service", backend, "in_progress", schema)
    revoke = task("Revocation list", backend, "in_progress", schema)
    login = task("Login API", backend, "pending_approval", tokens)
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
            "result": {"num_turns": 41, "total_cost_usd": 2.87, "duration_ms": 1_312_000},
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
    return {"initiative": initiative, "agent": otter["id"]}


def capture(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory(prefix="cw-screenshots-") as work:
        server = ServerProcess(home=Path(work) / "home").start()
        try:
            ids = seed(server)
            pages = {
                "overview": "/",
                "initiative": f"/initiatives/{ids['initiative']}",
                "inbox": "/inbox",
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
