"""What to do about a server's refusal: the ``hint:`` line under ``error: ...``.

A leaf module (standard library only): ``cw`` prints these under a refused command, and
the server's MCP tools (``crosswalk.server.mcp``) put the same lines in a tool error, so
an agent reads the same advice whichever way it asked.
"""

from __future__ import annotations

#: Under a question to a phase where several agents work (``CONFLICT``).
PHASE_CONFLICT_HINT = "several agents work in that phase: ask one with --agent or --task"
#: Under a question that will not be answered (the agent asked stopped).
UNANSWERABLE_HINT = "ask another agent (--agent, --task or --phase) or the person (cw ask --user)"


def file_conflict_hint(file_arg: str) -> str:
    """Under a question to a file several agents changed (``CONFLICT``); ``file_arg``
    is the file as a shell command line needs it."""
    return (
        "several agents changed that file: ask one with --agent, or name a line "
        f"(--file PATH:LINE); see who with: cw who {file_arg}"
    )


def refusal_hint(code: str, message: str, *, agent_named: bool, url: str) -> str | None:
    """What a person or agent can do about the tRPC refusal ``code`` (``message``),
    when it is not obvious. ``agent_named``: the caller said which agent it acts as;
    ``url``: the server's tRPC address."""
    if code == "UNAUTHORIZED":
        from crosswalk import config

        return (
            "set CW_TOKEN (or pass --token) to your agent token, or run cw as the user who "
            f"started the server so it can read the admin token at {config.admin_token_path()}"
        )
    if code == "FORBIDDEN":
        return (
            "an agent token acts only as its own agent: make --as / CW_AGENT_ID match it"
            if agent_named
            else "an agent token acts only as its own agent: set CW_AGENT_ID to that agent"
        )
    if code == "PAYLOAD_TOO_LARGE":
        return "questions and answers are limited to 100,000 characters"
    if code == "NOT_FOUND" and message.startswith("No procedure found"):
        return f"the server at {url} does not offer this; is it an older crosswalk?"
    return None
