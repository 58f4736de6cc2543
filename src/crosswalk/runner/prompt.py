"""The prompt an agent starts with: its task, verbatim, and how to reach its peers (with
`cw`, or the tools of crosswalk's MCP server the runner gives it, docs/mcp.md)."""

from __future__ import annotations

from crosswalk.agent_hooks import QUOTED_TEXT_NOTE
from crosswalk.domain.rows import Agent, Phase, Task
from crosswalk.target_kinds import usage_lines

RESUME_PROMPT = "Continue where you left off."


def build_prompt(agent: Agent, task: Task, phase: Phase | None, extra: str | None) -> str:
    lines = [
        f"You are {agent.name}, a coding agent (agent id {agent.id}) coordinated by crosswalk.",
        f"Your mode is {agent.mode.value}.",
        "",
        f"Your task ({task.id}): {task.name}",
    ]
    if phase is not None:
        lines.append(f"Phase: {phase.name}")
    if task.description:
        lines += ["", "Task description:", task.description]
    lines += [
        "",
        "You work in your own git worktree (the current directory), on your own branch.",
        "Commit your work there.",
        "",
        "Other agents work on other tasks at the same time. The `cw` command is set up",
        "for you (CW_URL, CW_AGENT_ID and CW_TOKEN are in your environment):",
        "- ask another agent or the person:",
        *usage_lines(indent="    "),
        "- see who changed a file: cw who PATH",
        "- see questions addressed to you: cw listen",
        '- answer one: cw answer CONVERSATION_ID "answer"',
        "`cw ask` waits for the answer and prints it.",
        "The same are tools of the `crosswalk` MCP server you have: ask, pending, answer, wait",
        "and whoami (your task and peers); in Claude Code, mcp__crosswalk__ask and so on.",
        QUOTED_TEXT_NOTE,
    ]
    if extra:
        lines += ["", extra]
    return "\n".join(lines)
