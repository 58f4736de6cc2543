"""crosswalk's hooks for one Codex run, trusted for that run only.

Codex skips the hooks of a worktree's ``.codex/hooks.json`` unless the project is trusted
in its ``config.toml`` and each hook's hash is recorded there too (``--trust`` writes the
first into ``$CODEX_HOME/config.toml``, which without an account is the person's own).
The runner changes no configuration: it hands Codex the hooks on the command line, in
Codex's "session flags" layer (``-c hooks.<Event>=[...]``), together with their trust
(``-c hooks.state={...}``), so they hold for that one process.

Codex keys a hook's trust by ``<source>:<event>:<group>:<hook>`` (the session flags'
source is ``/<session-flags>/config.toml``) and compares ``trusted_hash`` with
``sha256:`` + the SHA-256 of the hook's identity as compact JSON with sorted keys:
``{"event_name", "matcher" (when the group has one), "hooks": [{"async", "command",
"timeout", "type"}]}``, checked against the pinned Codex (``codex app-server``'s
``hooks/list`` reports the same ``currentHash``; tests/agents/test_codex_faithful.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

SESSION_FLAGS_SOURCE = "/<session-flags>/config.toml"
#: Codex's name for each hook event in trust keys and hashes.
EVENT_NAMES = {
    "SessionStart": "session_start",
    "UserPromptSubmit": "user_prompt_submit",
    "PostToolUse": "post_tool_use",
    "Stop": "stop",
}
#: Codex's timeout of a hook that names none.
DEFAULT_TIMEOUT_S = 600
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def trusted_hash(event: str, group: Mapping[str, Any], hook: Mapping[str, Any]) -> str:
    """The hash Codex records when a person trusts ``hook`` of ``group`` for ``event``."""
    identity: dict[str, Any] = {
        "event_name": EVENT_NAMES[event],
        "hooks": [
            {
                "async": bool(hook.get("async", False)),
                "command": hook["command"],
                "timeout": hook.get("timeout", DEFAULT_TIMEOUT_S),
                "type": hook.get("type", "command"),
            }
        ],
    }
    if "matcher" in group:
        identity["matcher"] = group["matcher"]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def session_hook_args(groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``-c`` overrides that define one matcher group per event and trust each hook."""
    args: list[str] = []
    state: dict[str, Any] = {}
    for event, group in groups.items():
        hooks = list(group["hooks"])
        for index, hook in enumerate(hooks):
            key = f"{SESSION_FLAGS_SOURCE}:{EVENT_NAMES[event]}:0:{index}"
            state[key] = {"trusted_hash": trusted_hash(event, group, hook)}
        args += ["-c", f"hooks.{event}=[{toml_value(dict(group))}]"]
    args += ["-c", f"hooks.state={toml_value(state)}"]
    return args


def toml_value(value: Any) -> str:
    """``value`` as a TOML inline value (strings, integers, booleans, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ",".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = [
            f"{key if _BARE_KEY.match(key) else json.dumps(key)}={toml_value(item)}"
            for key, item in value.items()
        ]
        return "{" + ",".join(pairs) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")
