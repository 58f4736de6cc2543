"""The API reference (``docs/api.md``), generated from the router itself.

``python -m crosswalk.server.apidoc > docs/api.md`` rewrites it; a test fails when the
committed file and the router disagree, so the reference cannot drift.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

from crosswalk.server.trpc import Procedure, Router

HEADER = """\
# crosswalk API reference

Generated from the server's router by `python -m crosswalk.server.apidoc > docs/api.md`;
a test keeps this file and the code in step.

The server speaks the tRPC 11 HTTP protocol under `/trpc`: queries are `GET
/trpc/<procedure>?input=<JSON>`, mutations are `POST /trpc/<procedure>` with a JSON body,
subscriptions are server-sent events on `GET`. Every procedure but `health` needs
`authorization: Bearer <token>` (the admin token from the data directory, or an agent's
token from `agent.create`). Field names are camelCase; `?` marks an optional field;
unknown fields are refused. Timestamps are ISO-8601 UTC strings. Lists answer
`{items, nextCursor}`; pass `cursor` to get the next page.
"""


#: Objects several procedures return, described once (the tables name them).
OBJECTS = """\
## Objects in answers

### `usage`: what agents' runs cost

Summed over runs (one per session of an agent: its spawn, then each resume), each as its
CLI reported it. `initiative.status` returns one for the initiative, one per task and one
per running agent.

| key | meaning |
|---|---|
| `runs` | how many runs are counted |
| `running` | how many of them still run (their time counts up to now) |
| `costUsd` | dollars, as Claude Code reports them; `null` when no run reported one (Codex) |
| `turns` | model turns (Claude's `num_turns`; Codex: its completed turns) |
| `runSeconds` | how long the runs ran (each one's `duration_ms`, else as the server saw it) |
| `inputTokens` | input tokens read fresh (not from the prompt cache) |
| `outputTokens` | output tokens |
| `cacheCreationTokens` | input tokens written to the prompt cache |
| `cacheReadTokens` | input tokens read from the prompt cache (Codex: `cached_input_tokens`) |
"""


def render(router: Router[Any]) -> str:
    groups: dict[str, list[Procedure[Any]]] = defaultdict(list)
    for procedure in sorted(router, key=lambda p: p.path):
        groups[procedure.path.split(".", 1)[0]].append(procedure)
    lines = [HEADER]
    for group, procedures in groups.items():
        lines += [f"## {group}", "", "| procedure | kind | input | does |", "|---|---|---|---|"]
        for procedure in procedures:
            kind = procedure.kind + (" (public)" if procedure.public else "")
            lines.append(
                f"| `{procedure.path}` | {kind} | {_input(procedure)} | {_summary(procedure)} |"
            )
        lines.append("")
    lines.append(OBJECTS)
    return "\n".join(lines)


# What the standard verbs do, for handlers that need no docstring of their own.
_VERBS = {
    "create": "Creates one; returns it.",
    "get": "One by id.",
    "list": "A page, filtered: `{items, nextCursor}`.",
    "update": "Changes exactly the fields sent; returns the row.",
    "delete": "Deletes one: `{id, deleted, removed}` (what went along).",
    "removeDependency": "Removes one dependency edge.",
}


def _summary(procedure: Procedure[Any]) -> str:
    doc = inspect.getdoc(procedure.handler) or _VERBS.get(procedure.path.rsplit(".", 1)[-1], "")
    first = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    return first.replace("|", "\\|")


def _input(procedure: Procedure[Any]) -> str:
    if procedure.input_model is None:
        return "none"
    schema = procedure.input_model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    fields = [
        f"{name}{'' if name in required else '?'}: {_type(spec, schema)}"
        for name, spec in schema.get("properties", {}).items()
    ]
    return "`{" + ", ".join(fields) + "}`" if fields else "`{}`"


def _type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in spec:
        return _type(schema["$defs"][spec["$ref"].rsplit("/", 1)[-1]], schema)
    if "enum" in spec:
        return " \\| ".join(f"'{value}'" for value in spec["enum"])
    if "anyOf" in spec:
        options = [option for option in spec["anyOf"] if option.get("type") != "null"]
        nullable = len(options) < len(spec["anyOf"])
        rendered = " \\| ".join(_type(option, schema) for option in options)
        return f"{rendered} \\| null" if nullable else rendered
    if spec.get("type") == "array":
        return f"{_type(spec.get('items', {}), schema)}[]"
    return str(spec.get("type", "any"))


def main() -> None:
    from crosswalk.server.app import build_router

    print(render(build_router()), end="")


if __name__ == "__main__":
    main()
