"""The ways to name whom a question goes to: one list, read by the ``cw`` client (the
flags and help of ``cw ask``, the hooks' session-start text) and by the server (the
agent's first prompt, the wire fields of ``conversation.ask``).

Standard library only: the client imports it. Each kind but ``user`` is a target of
``conversation.ask`` (``crosswalk.domain.targets`` holds its typed value,
``crosswalk.services.targets`` its resolver); ``user`` is the person, asked through
``message.askUser``. ``docs/architecture.md`` ("Adding a target kind") says what else a
new kind needs.
"""

from __future__ import annotations


class TargetKindText:
    """One kind and its words. A plain class: ``dataclasses`` would cost ``cw`` more to
    import than the rest of ``cw ask`` (``tests/integration/cli/test_imports.py``)."""

    __slots__ = ("example", "flag", "help", "kind", "metavar", "reaches", "wire")

    def __init__(
        self,
        *,
        kind: str,
        flag: str,
        metavar: str | None,
        help: str,
        example: str,
        reaches: str,
        wire: tuple[str, ...],
    ) -> None:
        self.kind = kind  # the conversation's ``targetKind``
        self.flag = flag  # the option of ``cw ask``
        self.metavar = metavar  # the option's value as ``--help`` shows it (None: a switch)
        self.help = help  # the option's line in ``cw ask --help``
        self.example = example  # the command as an agent's prompt shows it
        self.reaches = reaches  # whom it reaches, in a few words
        #: ``conversation.ask``'s input fields for it: the first names the target, the
        #: others refine it (empty: not a conversation)
        self.wire = wire


TARGET_KINDS: tuple[TargetKindText, ...] = (
    TargetKindText(
        kind="agent",
        flag="--agent",
        metavar="ID_OR_NAME",
        help="the agent to ask, by id or name",
        example='cw ask --agent NAME "QUESTION"',
        reaches="that agent, by name or id",
        wire=("toAgentId",),
    ),
    TargetKindText(
        kind="task",
        flag="--task",
        metavar="TASK",
        help="ask the agent working on this task",
        example='cw ask --task TASK_ID "QUESTION"',
        reaches="whoever works on that task",
        wire=("taskId",),
    ),
    TargetKindText(
        kind="phase",
        flag="--phase",
        metavar="PHASE",
        help="ask the one active agent working in this phase",
        example='cw ask --phase PHASE_ID "QUESTION"',
        reaches="the one other agent in that phase",
        wire=("phaseId",),
    ),
    TargetKindText(
        kind="file",
        flag="--file",
        metavar="PATH[:LINE]",
        help=(
            "ask the agent of your initiative whose work changed this file (with LINE, "
            "the one whose change covers that line); see 'cw who PATH'"
        ),
        example='cw ask --file PATH[:LINE] "QUESTION"',
        reaches="whoever changed that file",
        wire=("file", "line"),
    ),
    TargetKindText(
        kind="user",
        flag="--user",
        metavar=None,
        help="ask the person (answered with 'cw reply'; resume with 'cw message wait')",
        example='cw ask --user "QUESTION"',
        reaches="the person",
        wire=(),
    ),
)

#: The kinds ``conversation.ask`` takes, in the order above.
CONVERSATION_KINDS = tuple(kind for kind in TARGET_KINDS if kind.wire)


def usage_lines(indent: str = "  ") -> list[str]:
    """One line per kind, the command then whom it reaches, aligned: for a prompt."""
    width = max(len(kind.example) for kind in TARGET_KINDS)
    return [f"{indent}{k.example.ljust(width)}  ({k.reaches})" for k in TARGET_KINDS]


def target_fields() -> str:
    """``toAgentId, taskId, phaseId or file``: the fields naming a conversation's target."""
    names = [kind.wire[0] for kind in CONVERSATION_KINDS]
    return ", ".join(names[:-1]) + " or " + names[-1]
