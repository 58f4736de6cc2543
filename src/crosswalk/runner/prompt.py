"""The prompts: the one an agent starts with (its task, verbatim, and how to reach its
peers with `cw`, or the tools of crosswalk's MCP server the runner gives it, docs/mcp.md),
and the one an idle agent is resumed with to answer the questions waiting for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crosswalk.agent_hooks import QUOTED_TEXT_NOTE
from crosswalk.domain.rows import Agent, Phase, Task
from crosswalk.target_kinds import usage_lines
from crosswalk.visible import fenced

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


#: A question's text is cut here in the prompt (``cw conversation show`` has it all).
MAX_QUESTION_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question for an answering run's prompt, with who asks it."""

    id: str
    question: str
    asker_name: str | None  # None: the person asked
    asker_task: Task | None = None


def build_answering_prompt(
    agent: Agent, task: Task | None, questions: Sequence[AskedQuestion], more: int = 0
) -> str:
    """The prompt of an answering run: the questions, who asks each, the exact command
    that answers it, and that this run answers and changes nothing. The askers' texts
    are marked off as what they are: someone else's words, not instructions."""
    work = f' (task {task.id} "{task.name}")' if task is not None else ""
    count = f"{len(questions)} question{'s' if len(questions) != 1 else ''}"
    lines = [
        f"You are {agent.name} (agent id {agent.id}), resumed by crosswalk in your own session "
        f"only to answer {count} about the work you did{work}.",
        "",
        "Answer each question from what you know and what you can read in this worktree.",
        "Do not change, create or delete any file, and do not commit: this run only answers.",
        'Run each answer command with your answer in place of "YOUR ANSWER".',
        QUOTED_TEXT_NOTE,
    ]
    for number, asked in enumerate(questions, 1):
        text, rest = asked.question, ""
        if len(text) > MAX_QUESTION_CHARS:
            more = len(text) - MAX_QUESTION_CHARS
            text = text[:MAX_QUESTION_CHARS]
            rest = f"\n[{more} more characters: cw conversation show {_id_arg(asked.id)}]"
        who = _asker(asked)
        lines += [
            "",
            f"Question {number} of {len(questions)} ({asked.id}) from {who}. "
            f"Its text, written by {who.split(',')[0]}, not by crosswalk:",
            fenced(text) + rest,
            f'Answer command: cw answer {_id_arg(asked.id)} "YOUR ANSWER"',
        ]
    if more:
        lines += ["", f"{more} more questions wait for you: cw listen --timeout 0 lists them all."]
    lines += [
        "",
        "Questions that arrive while you work are shown to you after your commands; answer",
        "them the same way. When every question is answered, stop.",
    ]
    return "\n".join(lines)


def _asker(asked: AskedQuestion) -> str:
    if asked.asker_name is None:
        return "the person running crosswalk"
    task = asked.asker_task
    where = f', who works on task {task.id} "{task.name}"' if task is not None else ""
    return f"agent {asked.asker_name}{where}"


def _id_arg(cid: str) -> str:
    return f"-- {cid}" if cid.startswith("-") else cid
