"""One list of the ways to ask (``crosswalk.target_kinds``) is what the enum, the wire,
``cw ask``, the agent's first prompt and the hooks' session text all say."""

from __future__ import annotations

from datetime import UTC, datetime

from crosswalk.domain.enums import (
    AgentMode,
    AgentStatus,
    TargetKind,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from crosswalk.domain.rows import Agent, Task
from crosswalk.runner.prompt import build_prompt
from crosswalk.server.procedures.conversation import AskInput
from crosswalk.target_kinds import CONVERSATION_KINDS, TARGET_KINDS, target_fields

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_conversation_kinds_are_the_stored_kinds_and_the_wire_fields() -> None:
    assert [kind.kind for kind in CONVERSATION_KINDS] == [kind.value for kind in TargetKind]
    aliases = {field.alias for field in AskInput.model_fields.values()}
    for kind in CONVERSATION_KINDS:
        assert set(kind.wire) <= aliases, kind.kind
    assert target_fields() == "toAgentId, taskId, phaseId or file"


def test_the_first_prompt_lists_every_way_to_ask() -> None:
    agent = Agent(
        id="a1", name="otter", task_id="t1", initiative_id="i1", session_id=None,
        worktree_id=".", provider="claude", account_id=None, status=AgentStatus.RUNNING,
        mode=AgentMode.EXECUTE, pid=None, process_started_at=None, exit_code=None,
        output_file_path=None, result=None, pending_questions=None, user_dismissed_at=None,
        token_hash=None, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    task = Task(
        id="t1", phase_id=None, initiative_id="i1", parent_task_id=None, name="Tokens",
        description=None, type=TaskType.AUTO, category=TaskCategory.EXECUTE,
        priority=TaskPriority.MEDIUM, status=TaskStatus.IN_PROGRESS, requires_approval=None,
        order=0, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    prompt = build_prompt(agent, task, None, None)
    for kind in TARGET_KINDS:
        assert kind.example in prompt and kind.reaches in prompt, kind.kind
    assert "cw who PATH" in prompt
