"""Who may call what: every procedure of the router x {no token, admin, the right agent,
another agent}.

``RULES`` names, for each procedure, who may call it and builds an input in which
agent ``alice`` is "the right agent" (the one the row is about) and agent ``bob`` is
someone else. The rows are checked against the router itself, so a procedure added
without a row fails ``test_every_procedure_has_a_rule``.

Callers with a token are run through the procedure's own handler with the principal
the token would give (subscriptions included: their first event is awaited); the
call without a token goes over the wire, where authentication happens.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.procedures.planning_api import Api, running_api

from crosswalk.dispatch.landing import AgentWork
from crosswalk.dispatch.merging import MergeRequest, MergeResult
from crosswalk.domain.errors import ForbiddenError, PreconditionFailedError
from crosswalk.domain.rows import Agent, Task
from crosswalk.server.app import CrosswalkApp, build_router
from crosswalk.server.context import Context
from crosswalk.services.auth import ADMIN, Principal


class Who(Enum):
    PUBLIC = "anyone, even without a token"
    ADMIN = "the administrator only"
    OWNER = "the administrator and the agent the call is about"
    ANY = "the administrator and any agent"


class World:
    """Four agents (alice: the right one, bob: another, carol: the counterpart alice
    asks, dave: the counterpart who asks alice; two counterparts, because alice and
    carol asking each other would be a refused wait cycle) and factories that make a
    fresh row per call, so deletes never see each other."""

    def __init__(self, api: Api, data_dir: Path) -> None:
        self.api = api
        self.data_dir = data_dir
        self.alice = api.mutation("agent.create", {"name": "alice"})["id"]
        self.bob = api.mutation("agent.create", {"name": "bob"})["id"]
        self.carol = api.mutation("agent.create", {"name": "carol"})["id"]
        self.dave = api.mutation("agent.create", {"name": "dave"})["id"]
        self._n = 0

    def _name(self, kind: str) -> str:
        self._n += 1
        return f"{kind}-{self._n}"

    def initiative(self) -> str:
        return str(self.api.mutation("initiative.create", {"name": self._name("i")})["id"])

    def phase(self, initiative: str | None = None) -> str:
        payload = {"initiativeId": initiative or self.initiative(), "name": self._name("p")}
        return str(self.api.mutation("phase.create", payload)["id"])

    def task(self, initiative: str | None = None) -> str:
        payload = {"name": self._name("t"), "initiativeId": initiative or self.initiative()}
        return str(self.api.mutation("task.create", payload)["id"])

    def page(self) -> str:
        root = self.api.mutation("page.root", {"initiativeId": self.initiative()})
        return str(root["id"])

    def project(self) -> str:
        payload = {"name": self._name("pr"), "url": f"https://example.com/{self._n}.git"}
        return str(self.api.mutation("project.create", payload)["id"])

    def account(self) -> str:
        payload = {"email": f"{self._name('a')}@example.com"}
        return str(self.api.mutation("account.create", payload)["id"])

    def agent(self) -> str:
        return str(self.api.mutation("agent.create", {"name": self._name("ag")})["id"])

    def proposal(self, agent: str) -> str:
        payload = {
            "agentId": agent,
            "initiativeId": self.initiative(),
            "targetType": "task",
            "title": "t",
        }
        return str(self.api.mutation("proposal.create", payload)["id"])

    def conversation(self, sender: str, to: str, *, answered: bool = False) -> str:
        payload = {"fromAgentId": sender, "toAgentId": to, "question": "q?"}
        cid = str(self.api.mutation("conversation.ask", payload)["id"])
        if answered:
            self.api.mutation("conversation.answer", {"id": cid, "answer": "a"})
        return cid

    def message(self, sender: str, to: str) -> str:
        payload = {"senderId": sender, "recipientId": to, "content": "m"}
        return str(self.api.mutation("message.create", payload)["id"])

    def question_to_user(self, agent: str) -> str:
        return str(self.api.mutation("message.askUser", {"agentId": agent, "content": "?"})["id"])

    def two_tasks(self) -> dict[str, str]:
        initiative = self.initiative()
        return {"taskId": self.task(initiative), "dependsOnTaskId": self.task(initiative)}

    def two_phases(self) -> dict[str, str]:
        initiative = self.initiative()
        return {"phaseId": self.phase(initiative), "dependsOnPhaseId": self.phase(initiative)}


Payload = Callable[[World], Any]


@dataclass(frozen=True)
class Rule:
    who: Who
    payload: Payload
    #: The error an allowed caller gets past authorization, when the call cannot
    #: succeed here (spawning needs a repository and an agent CLI: tests/e2e).
    refused: type[Exception] | None = None


def _linked(w: World, path: str, payload: dict[str, str]) -> dict[str, str]:
    w.api.mutation(path, payload)
    return payload


def _project_link(w: World) -> dict[str, str]:
    return {"initiativeId": w.initiative(), "projectId": w.project()}


def _answered_task_dependency(w: World) -> dict[str, str]:
    return _linked(w, "task.addDependency", w.two_tasks())


def _answered_phase_dependency(w: World) -> dict[str, str]:
    return _linked(w, "phase.addDependency", w.two_phases())


def _blocked_task_with_work(w: World) -> dict[str, str]:
    """A blocked task with an agent; the fixture's merger finds nothing left to merge,
    so the retry completes it (who may call is the point here, not git)."""
    task = w.api.mutation(
        "task.create", {"name": "blocked", "initiativeId": w.initiative(), "status": "blocked"}
    )
    w.api.mutation("agent.create", {"name": w._name("worker"), "taskId": task["id"]})
    return {"id": task["id"]}


def _alices_initiative(w: World) -> dict[str, str]:
    """Alice works in an initiative: she may see who changed a file there, bob not."""
    found = w.api.query("agent.get", {"id": w.alice}).get("initiativeId")
    if found is None:
        found = w.initiative()
        w.api.mutation("agent.update", {"id": w.alice, "initiativeId": found})
    return {"path": "src/app.py", "initiativeId": found}


def _pending_question_for_alice(w: World) -> dict[str, str]:
    w.conversation(w.dave, w.alice)
    return {"agentId": w.alice}


def _response_under_a_message_to_alice(w: World) -> dict[str, Any]:
    parent = w.message(w.carol, w.alice)
    return {"content": "yes", "type": "response", "parentMessageId": parent, "recipientId": w.carol}


ADM, OWN, ANY, PUB = Who.ADMIN, Who.OWNER, Who.ANY, Who.PUBLIC

RULES: dict[str, Rule] = {
    "health": Rule(PUB, lambda w: None),
    "server.list": Rule(ADM, lambda w: None),
    # conversations: only their two agents
    "conversation.ask": Rule(
        OWN, lambda w: {"fromAgentId": w.alice, "toAgentId": w.carol, "question": "q?"}
    ),
    "conversation.get": Rule(OWN, lambda w: {"id": w.conversation(w.alice, w.carol)}),
    "conversation.pending": Rule(OWN, lambda w: {"agentId": w.alice}),
    "conversation.listen": Rule(OWN, lambda w: {"agentId": w.alice, "timeoutMs": 0}),
    "conversation.answer": Rule(
        OWN, lambda w: {"id": w.conversation(w.dave, w.alice), "answer": "a"}
    ),
    "conversation.waitForAnswer": Rule(
        OWN, lambda w: {"id": w.conversation(w.alice, w.carol), "timeoutMs": 0}
    ),
    "conversation.list": Rule(OWN, lambda w: {"agentId": w.alice}),
    "conversation.onQuestion": Rule(OWN, _pending_question_for_alice),
    "conversation.onAnswer": Rule(
        OWN, lambda w: {"id": w.conversation(w.alice, w.carol, answered=True)}
    ),
    # who changed a file: in the caller's own initiative
    "file.owners": Rule(OWN, _alices_initiative),
    # planning: read by every agent, changed by the administrator
    "initiative.create": Rule(ADM, lambda w: {"name": "new"}),
    "initiative.get": Rule(ANY, lambda w: {"id": w.initiative()}),
    "initiative.resolve": Rule(ANY, lambda w: {"ref": w.initiative()}),
    "initiative.list": Rule(ANY, lambda w: {}),
    "initiative.update": Rule(ADM, lambda w: {"id": w.initiative(), "name": "renamed"}),
    "initiative.delete": Rule(ADM, lambda w: {"id": w.initiative()}),
    "initiative.run": Rule(
        ADM,
        lambda w: (
            {"id": _linked(w, "project.addToInitiative", _project_link(w))["initiativeId"]}
            | {"maxAgents": 1}
        ),
    ),
    "initiative.pause": Rule(ADM, lambda w: {"id": w.initiative()}),
    "initiative.status": Rule(ANY, lambda w: {"id": w.initiative()}),
    # pushing to the person's repositories: an initiative with no project has nowhere to go
    "initiative.push": Rule(ADM, lambda w: {"id": w.initiative()}, PreconditionFailedError),
    "phase.create": Rule(ADM, lambda w: {"initiativeId": w.initiative(), "name": "p"}),
    "phase.get": Rule(ANY, lambda w: {"id": w.phase()}),
    "phase.resolve": Rule(ANY, lambda w: {"ref": w.phase()}),
    "phase.list": Rule(ANY, lambda w: {}),
    "phase.update": Rule(ADM, lambda w: {"id": w.phase(), "name": "renamed"}),
    "phase.delete": Rule(ADM, lambda w: {"id": w.phase()}),
    "phase.addDependency": Rule(ADM, lambda w: w.two_phases()),
    "phase.removeDependency": Rule(ADM, _answered_phase_dependency),
    "phase.dependencies": Rule(ANY, lambda w: {"id": w.phase()}),
    "phase.dependents": Rule(ANY, lambda w: {"id": w.phase()}),
    "task.create": Rule(ADM, lambda w: {"name": "t", "initiativeId": w.initiative()}),
    "task.get": Rule(ANY, lambda w: {"id": w.task()}),
    "task.resolve": Rule(ANY, lambda w: {"ref": w.task()}),
    "task.list": Rule(ANY, lambda w: {}),
    "task.update": Rule(ADM, lambda w: {"id": w.task(), "name": "renamed"}),
    "task.delete": Rule(ADM, lambda w: {"id": w.task()}),
    "task.addDependency": Rule(ADM, lambda w: w.two_tasks()),
    "task.removeDependency": Rule(ADM, _answered_task_dependency),
    "task.dependencies": Rule(ANY, lambda w: {"id": w.task()}),
    "task.dependents": Rule(ANY, lambda w: {"id": w.task()}),
    "task.subtasks": Rule(ANY, lambda w: {"id": w.task()}),
    "task.pendingApproval": Rule(ANY, lambda w: {}),
    "task.approve": Rule(
        ADM,
        lambda w: {
            "id": w.api.mutation(
                "task.create",
                {"name": "held", "initiativeId": w.initiative(), "status": "pending_approval"},
            )["id"]
        },
    ),
    "task.ready": Rule(ANY, lambda w: {}),
    "task.retryMerge": Rule(ADM, _blocked_task_with_work),
    "task.diff": Rule(ANY, lambda w: {"id": w.task()}),
    # a task that never ran has no agent to send it back to
    "task.reject": Rule(
        ADM,
        lambda w: {
            "id": w.api.mutation(
                "task.create",
                {"name": "held", "initiativeId": w.initiative(), "status": "pending_approval"},
            )["id"],
            "comment": "redo it",
        },
        PreconditionFailedError,
    ),
    "project.create": Rule(ADM, lambda w: {"name": "p", "url": "https://example.com/p.git"}),
    "project.get": Rule(ANY, lambda w: {"id": w.project()}),
    "project.list": Rule(ANY, lambda w: {}),
    "project.update": Rule(ADM, lambda w: {"id": w.project(), "name": "renamed"}),
    "project.delete": Rule(ADM, lambda w: {"id": w.project()}),
    "project.setForInitiative": Rule(
        ADM, lambda w: {"initiativeId": w.initiative(), "projectIds": [w.project()]}
    ),
    "project.addToInitiative": Rule(ADM, _project_link),
    "project.removeFromInitiative": Rule(
        ADM, lambda w: _linked(w, "project.addToInitiative", _project_link(w))
    ),
    "project.forInitiative": Rule(ANY, lambda w: {"initiativeId": w.initiative()}),
    "page.create": Rule(ADM, lambda w: {"initiativeId": w.initiative(), "title": "p"}),
    "page.get": Rule(ANY, lambda w: {"id": w.page()}),
    "page.list": Rule(ANY, lambda w: {}),
    "page.update": Rule(ADM, lambda w: {"id": w.page(), "title": "renamed"}),
    "page.delete": Rule(ADM, lambda w: {"id": w.page()}),
    "page.root": Rule(ADM, lambda w: {"initiativeId": w.initiative()}),
    "page.children": Rule(ANY, lambda w: {"id": w.page()}),
    "page.tree": Rule(ANY, lambda w: {"initiativeId": w.initiative()}),
    # agents: every agent sees who is who; an agent changes only its own run state
    "agent.create": Rule(ADM, lambda w: {"name": f"made-{w._name('x')}"}),
    "agent.get": Rule(ANY, lambda w: {"id": w.alice}),
    "agent.list": Rule(ANY, lambda w: {}),
    "agent.byTask": Rule(ANY, lambda w: {"taskId": w.task()}),
    "agent.bySession": Rule(ANY, lambda w: {"sessionId": "no-such-session"}),
    "agent.update": Rule(OWN, lambda w: {"id": w.alice, "status": "running"}),
    "agent.delete": Rule(ADM, lambda w: {"id": w.agent()}),
    "agent.rotateToken": Rule(OWN, lambda w: {"id": w.alice}),
    "agent.checkIn": Rule(OWN, lambda w: {"agentId": w.alice}),
    # running agents (the runner) is the administrator's
    "agent.spawn": Rule(ADM, lambda w: {"taskId": w.task()}, PreconditionFailedError),
    "agent.stop": Rule(ADM, lambda w: {"id": w.agent()}),
    "agent.resume": Rule(ADM, lambda w: {"id": w.agent()}, PreconditionFailedError),
    "agent.clean": Rule(ADM, lambda w: {"id": w.agent(), "idle": True}),
    # the person's word: no agent may speak as the person, even to itself
    "agent.tell": Rule(ADM, lambda w: {"id": w.alice, "message": "use port 8080"}),
    # accounts hold provider credentials: the administrator's alone
    "account.create": Rule(ADM, lambda w: {"email": f"{w._name('n')}@example.com"}),
    "account.get": Rule(ADM, lambda w: {"id": w.account()}),
    "account.list": Rule(ADM, lambda w: {}),
    "account.update": Rule(ADM, lambda w: {"id": w.account(), "sortOrder": 3}),
    "account.delete": Rule(ADM, lambda w: {"id": w.account()}),
    "account.next": Rule(ADM, lambda w: {}),
    "account.markExhausted": Rule(
        ADM, lambda w: {"id": w.account(), "until": "2099-01-01T00:00:00Z"}
    ),
    "account.clearExpired": Rule(ADM, lambda w: None),
    # proposals: made and edited by their agent, decided by the administrator
    "proposal.create": Rule(
        OWN,
        lambda w: {
            "agentId": w.alice,
            "initiativeId": w.initiative(),
            "targetType": "task",
            "title": "t",
        },
    ),
    "proposal.get": Rule(ANY, lambda w: {"id": w.proposal(w.alice)}),
    "proposal.list": Rule(ANY, lambda w: {}),
    "proposal.update": Rule(OWN, lambda w: {"id": w.proposal(w.alice), "title": "renamed"}),
    "proposal.delete": Rule(OWN, lambda w: {"id": w.proposal(w.alice)}),
    "proposal.accept": Rule(ADM, lambda w: {"id": w.proposal(w.alice)}),
    "proposal.dismiss": Rule(ADM, lambda w: {"id": w.proposal(w.alice)}),
    "proposal.updateManyByAgent": Rule(
        ADM, lambda w: {"agentId": w.alice, "changes": {"sortOrder": 1}}
    ),
    "proposal.countByAgent": Rule(ANY, lambda w: {"agentId": w.alice}),
    # messages: their two participants; the user's side is the administrator's
    "message.create": Rule(OWN, _response_under_a_message_to_alice),
    "message.get": Rule(OWN, lambda w: {"id": w.message(w.alice, w.carol)}),
    "message.list": Rule(OWN, lambda w: {"senderId": w.alice}),
    "message.update": Rule(ADM, lambda w: {"id": w.message(w.alice, w.carol), "content": "x"}),
    "message.delete": Rule(ADM, lambda w: {"id": w.message(w.alice, w.carol)}),
    "message.thread": Rule(OWN, lambda w: {"id": w.message(w.alice, w.carol)}),
    "message.pendingForUser": Rule(ADM, lambda w: None),
    "message.requiringResponse": Rule(ADM, lambda w: None),
    "message.markRead": Rule(OWN, lambda w: {"id": w.message(w.carol, w.alice)}),
    "message.inbox": Rule(ADM, lambda w: None),
    "message.askUser": Rule(OWN, lambda w: {"agentId": w.alice, "content": "may I?"}),
    "message.waitForReply": Rule(
        OWN, lambda w: {"id": w.question_to_user(w.alice), "timeoutMs": 0}
    ),
    "message.reply": Rule(ADM, lambda w: {"id": w.question_to_user(w.alice), "content": "no"}),
    # logs: written and read by their agent, deleted by the administrator
    "log.append": Rule(OWN, lambda w: {"agentId": w.alice, "content": "line\n"}),
    "log.forAgent": Rule(OWN, lambda w: {"agentId": w.alice}),
    "log.sessionCount": Rule(OWN, lambda w: {"agentId": w.alice}),
    "log.follow": Rule(
        OWN,
        lambda w: (
            _linked(w, "log.append", {"agentId": w.alice, "content": "x\n"})
            and {"agentId": w.alice}
        ),
    ),
    "log.deleteForAgent": Rule(ADM, lambda w: {"agentId": w.alice}),
    # the dashboard: only the person signs a browser in
    "dashboard.signInLink": Rule(ADM, lambda w: None),
}

ROUTER = build_router()
CALLERS = ("admin", "right agent", "other agent")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CrosswalkApp, World]]:
    home = tmp_path_factory.mktemp("matrix")
    with running_api(f"sqlite:///{home / 'crosswalk.db'}", home) as api:
        api.app.runtime.landing.workspaces = _OneWorkspace(home)
        api.app.runtime.landing.merger = _NothingLeftToMerge()
        yield api.app, World(api, home / "data")


class _OneWorkspace:
    def __init__(self, home: Path) -> None:
        self.home = home

    def work_of(self, agent: Agent, task: Task) -> list[AgentWork]:
        return [AgentWork("app", self.home, "cw/x", f"cw/x--{agent.name}", None)]


class _NothingLeftToMerge:
    def merge(self, request: MergeRequest) -> MergeResult:
        return MergeResult(commit="0" * 40)


def test_every_procedure_has_a_rule() -> None:
    missing = sorted(set(ROUTER.procedures) - set(RULES))
    stale = sorted(set(RULES) - set(ROUTER.procedures))
    assert not missing, f"add a row to RULES for each new procedure: {missing}"
    assert not stale, f"these rows name no procedure any more: {stale}"


def _principal(world: World, caller: str) -> Principal:
    if caller == "admin":
        return ADMIN
    return Principal(agent_id=world.alice if caller == "right agent" else world.bob)


async def _run(app: CrosswalkApp, path: str, principal: Principal, payload: Any) -> Any:
    procedure = ROUTER.procedures[path]
    inp = None if procedure.input_model is None else procedure.input_model.model_validate(payload)
    ctx = Context(principal=principal, services=app.services, runtime=app.runtime)
    if procedure.kind != "subscription":
        return await procedure.handler(ctx, inp)
    stream = procedure.handler(ctx, inp)
    try:
        return await asyncio.wait_for(anext(stream), timeout=10)
    finally:
        await stream.aclose()


def _allowed(who: Who, caller: str) -> bool:
    return {
        Who.PUBLIC: True,
        Who.ANY: True,
        Who.ADMIN: caller == "admin",
        Who.OWNER: caller in ("admin", "right agent"),
    }[who]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("path", sorted(RULES))
def test_who_may_call(world: tuple[CrosswalkApp, World], path: str, caller: str) -> None:
    app, w = world
    rule = RULES[path]
    payload = rule.payload(w)
    call = _run(app, path, _principal(w, caller), payload)
    if _allowed(rule.who, caller) and rule.refused is not None:
        with pytest.raises(rule.refused):
            asyncio.run(call)
    elif _allowed(rule.who, caller):
        asyncio.run(call)  # any error fails the test: the row's input must be valid
    else:
        with pytest.raises(ForbiddenError):
            asyncio.run(call)


@pytest.mark.parametrize("path", sorted(RULES))
def test_without_a_token(world: tuple[CrosswalkApp, World], path: str) -> None:
    """Over the wire: no credentials is UNAUTHORIZED for everything but the public."""
    app, w = world
    rule = RULES[path]
    procedure = ROUTER.procedures[path]
    payload = rule.payload(w)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            if procedure.kind == "mutation":
                body = json.dumps(payload).encode()
                headers = {"content-type": "application/json"}
                return await client.post(f"/trpc/{path}", content=body, headers=headers)
            params = {} if payload is None else {"input": json.dumps(payload)}
            return await client.get(f"/trpc/{path}", params=params)

    if rule.who is Who.PUBLIC:
        assert asyncio.run(send()).status_code == 200
        return
    response = asyncio.run(send())
    if procedure.kind == "subscription":  # the stream opens, then carries the error
        _, _, data = response.text.partition("event: serialized-error\ndata: ")
        error = json.loads(data.split("\n", 1)[0])
    else:
        assert response.status_code == 401, response.text
        error = response.json()["error"]
    assert error["data"]["code"] == "UNAUTHORIZED"


# -- what no agent token may write on any agent ----------------------------------------

#: The runner's fields, each with a value the administrator may store on agent ``a``:
#: an agent setting them on itself could make a restarted runner adopt a "run" of its
#: choosing.
RUNNER_FIELDS: dict[str, Callable[[World, str], Any]] = {
    "pid": lambda w, a: 1,
    "processStartedAt": lambda w, a: 12345,
    "outputFilePath": lambda w, a: str(w.data_dir / "agents" / a / "session-2.jsonl"),
    "exitCode": lambda w, a: 0,
    "sessionId": lambda w, a: "someone-elses-session",
    "accountId": lambda w, a: w.account(),
    "worktreeId": lambda w, a: "/elsewhere",
    "provider": lambda w, a: "codex",
}
AGENT_STATUSES = ("idle", "running", "waiting_for_input", "stopped", "crashed")
SELF_STATUSES = ("idle", "running", "waiting_for_input")


@pytest.mark.parametrize("whose", ["its own", "another agent's"])
@pytest.mark.parametrize("field", sorted(RUNNER_FIELDS))
def test_no_agent_token_sets_a_runner_field(
    world: tuple[CrosswalkApp, World], field: str, whose: str
) -> None:
    app, w = world
    target = w.alice if whose == "its own" else w.bob
    payload = {"id": target, field: RUNNER_FIELDS[field](w, target)}
    with pytest.raises(ForbiddenError, match=rf"\b{field}\b"):
        asyncio.run(_run(app, "agent.update", Principal(agent_id=w.alice), payload))
    other = w.agent()  # the administrator keeps the power
    value = RUNNER_FIELDS[field](w, other)
    assert (
        asyncio.run(_run(app, "agent.update", ADMIN, {"id": other, field: value}))[field] == value
    )


@pytest.mark.parametrize("after", AGENT_STATUSES)
@pytest.mark.parametrize("before", AGENT_STATUSES)
def test_an_agent_moves_its_own_status_only_between_idle_running_and_waiting(
    world: tuple[CrosswalkApp, World], before: str, after: str
) -> None:
    app, w = world
    agent = w.agent()
    w.api.mutation("agent.update", {"id": agent, "status": before})
    call = _run(app, "agent.update", Principal(agent_id=agent), {"id": agent, "status": after})
    if before in SELF_STATUSES and after in SELF_STATUSES:
        assert asyncio.run(call)["status"] == after
    else:
        with pytest.raises(ForbiddenError, match=r"\bstatus\b"):
            asyncio.run(call)
        assert w.api.query("agent.get", {"id": agent})["status"] == before
