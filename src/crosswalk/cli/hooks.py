"""``cw hooks install|uninstall`` and ``cw hook``: wiring an agent CLI's hooks to crosswalk.

``install_hooks(worktree, provider)`` is the entry point for code (crosswalk's runner
calls it for every worktree it creates); ``cw hooks install`` is the same for a person.
It merges ``cw hook`` entries into ``.claude/settings.local.json`` (Claude Code) or
``.codex/hooks.json`` (Codex), replacing its own earlier entries and keeping everyone
else's, and keeps what it writes out of git through ``.git/info/exclude``.
``uninstall_hooks`` removes exactly its own entries. docs/hooks.md has the details.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from crosswalk.cli.commands import add_command, add_group
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.hook import EVENTS, IDENTITY_FILE, PROVIDERS, STATE_DIR, run_hook

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

#: Where each provider reads its hooks, relative to the worktree.
CONFIG_FILES = {"claude": ".claude/settings.local.json", "codex": ".codex/hooks.json"}
#: The events wired for each provider (Codex has no prompt hook).
PROVIDER_EVENTS = {
    "claude": ("SessionStart", "UserPromptSubmit", "PostToolUse", "Stop"),
    "codex": ("SessionStart", "PostToolUse", "Stop"),
}
#: Seconds the agent CLI gives a hook before killing it (it returns long before).
HOOK_TIMEOUT_S = 10


def cw_command() -> str:
    """How the hook commands start ``cw``: this installation's console script by full
    path (agents' PATHs differ), else this interpreter with ``-m crosswalk``."""
    script = Path(sys.executable).with_name("cw")
    if os.access(script, os.X_OK):
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m crosswalk"


def hook_command(provider: str, event: str, cw: str | None = None) -> str:
    return f"{cw or cw_command()} hook {provider} {event}"


def is_ours(command: object) -> bool:
    """Whether a hook command is one ``install_hooks`` wrote (any path, any version)."""
    if not isinstance(command, str):
        return False
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if len(argv) < 4 or argv[-3] != "hook" or argv[-2] not in PROVIDERS:
        return False
    start = argv[:-3]
    if len(start) == 1:
        return Path(start[0]).name == "cw"
    return start[-2:] == ["-m", "crosswalk"]


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        config = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); fix or remove it first") from None
    if not isinstance(config, dict):
        raise UsageError(f"{path} does not hold a JSON object; fix or remove it first")
    if not isinstance(config.get("hooks", {}), dict):
        raise UsageError(f'{path}: "hooks" is not an object; fix or remove it first')
    return config


def _write_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _without_ours(groups: object) -> list[Any]:
    """The event's matcher groups with our commands taken out (and groups left empty)."""
    kept: list[Any] = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            kept.append(group)
            continue
        hooks = [
            h for h in group["hooks"] if not (isinstance(h, dict) and is_ours(h.get("command")))
        ]
        if hooks:
            kept.append({**group, "hooks": hooks})
        elif not group["hooks"]:
            kept.append(group)  # someone else's empty group: not ours to remove
    return kept


def _config_path(worktree: Path, provider: str) -> Path:
    if provider not in CONFIG_FILES:
        raise UsageError(f"unknown provider {provider!r}: expected one of {', '.join(PROVIDERS)}")
    return worktree / CONFIG_FILES[provider]


def install_hooks(worktree: Path, provider: str = "claude", *, cw: str | None = None) -> Path:
    """Wire ``cw hook`` into the worktree's hook configuration; return the file's path.

    Safe to run again: our entries are replaced, never duplicated, and entries of other
    tools are kept as they are. ``cw`` overrides how the hook starts ``cw``.
    """
    path = _config_path(worktree, provider)
    config = _read_config(path)
    hooks = dict(config.get("hooks") or {})
    for event in PROVIDER_EVENTS[provider]:
        command = hook_command(provider, event, cw)
        group: dict[str, Any] = {
            "hooks": [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT_S}]
        }
        if event == "PostToolUse":
            group = {"matcher": "", **group}
        hooks[event] = [*_without_ours(hooks.get(event)), group]
    _write_config(path, {**config, "hooks": hooks})
    exclude_from_git(worktree, [CONFIG_FILES[provider], f"{STATE_DIR}/"])
    return path


def uninstall_hooks(worktree: Path, provider: str = "claude") -> bool:
    """Remove exactly our entries; return whether there were any."""
    path = _config_path(worktree, provider)
    if not path.exists():
        return False
    config = _read_config(path)
    hooks = dict(config.get("hooks") or {})
    found = False
    for event in list(hooks):
        kept = _without_ours(hooks[event])
        if kept != hooks[event]:
            found = True
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if not found:
        return False
    rest = {key: value for key, value in config.items() if key != "hooks"}
    if hooks:
        rest["hooks"] = hooks
    if rest:
        _write_config(path, rest)
    else:
        path.unlink()  # it held nothing but our hooks
    return True


def has_hooks(worktree: Path, provider: str) -> bool:
    """Whether the provider's configuration in the worktree holds any of our entries."""
    try:
        hooks = _read_config(_config_path(worktree, provider)).get("hooks") or {}
    except UsageError:
        return False
    return any(_without_ours(groups) != groups for groups in hooks.values())


def write_identity(worktree: Path, agent_id: str, token: str, url: str) -> Path:
    """The private ``.crosswalk/agent.json`` (0600) the hook reads when its environment
    names no agent; excluded from git."""
    directory = worktree / STATE_DIR
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / IDENTITY_FILE
    temporary = path.with_name(f"{IDENTITY_FILE}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"agentId": agent_id, "token": token, "url": url}, file)
    temporary.replace(path)
    exclude_from_git(worktree, [f"{STATE_DIR}/"])
    return path


def exclude_from_git(worktree: Path, paths: list[str]) -> None:
    """Add ``/PATH`` lines to the repository's ``info/exclude`` (shared by its worktrees);
    nothing when ``worktree`` is not in a git repository."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--git-common-dir"],
            cwd=worktree,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return
    if found.returncode != 0:
        return
    exclude = worktree / found.stdout.strip() / "info" / "exclude"
    try:
        present = set(exclude.read_text(encoding="utf-8").splitlines())
    except FileNotFoundError:
        present = set()
    missing = [f"/{p}" for p in paths if f"/{p}" not in present]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as file:
            file.write("".join(f"{line}\n" for line in missing))


def _worktree(args: argparse.Namespace) -> Path:
    if args.worktree:
        given = Path(args.worktree)
        if not given.is_dir():
            raise UsageError(f"--worktree {args.worktree}: no such directory")
        return given.absolute()
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    found = str(top.stdout).strip()
    return Path(found) if top.returncode == 0 and found else Path.cwd()


# -- commands ---------------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw hook`` and ``cw hooks`` to ``cw``."""
    hook = add_command(
        subparsers,
        "hook",
        help="run by Claude Code or Codex at a hook event (not by hand)",
        description=(
            "What the agent CLI runs at its hook events, with the event's JSON on stdin:\n"
            "it prints the questions (and --no-wait answers) for this agent that the\n"
            "session has not seen, and keeps a Stop from ending the session while\n"
            "questions wait. It never fails the agent: whatever goes wrong, it prints\n"
            "nothing, exits 0 and notes why in .crosswalk/hook.log. See docs/hooks.md."
        ),
        examples=[
            'echo \'{"session_id":"s1"}\' | cw hook claude PostToolUse',
            "cw hook codex Stop < event.json",
        ],
        handler=cmd_hook,
        client_options=False,
    )
    hook.add_argument("provider", choices=PROVIDERS, help="the agent CLI")
    hook.add_argument("event", choices=tuple(EVENTS), help="the hook event")

    hooks = add_group(
        subparsers,
        "hooks",
        help="install or remove the cw hooks in a worktree",
        description=(
            "Wire Claude Code's or Codex's hooks in a worktree to crosswalk, so questions\n"
            "reach a busy agent after its next tool call. See docs/hooks.md."
        ),
        examples=["cw hooks install", "cw hooks uninstall --provider codex"],
    )
    install = add_command(
        hooks,
        "install",
        help="write the hook configuration into a worktree",
        description=(
            "Merge 'cw hook' entries into .claude/settings.local.json (Codex:\n"
            ".codex/hooks.json) of the worktree, keeping other entries and never\n"
            "duplicating its own, and exclude the files from git. The hook acts as the\n"
            "agent in CW_AGENT_ID/CW_TOKEN/CW_URL of the agent CLI's environment; with\n"
            "--agent it also writes a private identity file (.crosswalk/agent.json,\n"
            "0600) for an agent CLI started without those variables: with the token of\n"
            "this shell when CW_AGENT_ID names that agent, else (as the administrator)\n"
            "with a newly issued one, which ends the previous token."
        ),
        examples=[
            "cw hooks install",
            "cw hooks install --worktree ../wt-tokens --agent brave-otter",
            "cw hooks install --provider codex",
        ],
        handler=cmd_install,
    )
    uninstall = add_command(
        hooks,
        "uninstall",
        help="remove the cw hook entries from a worktree",
        description=(
            "Remove exactly the entries 'cw hooks install' wrote; other hooks stay.\n"
            "The identity file, if any, goes with the last provider's hooks."
        ),
        examples=["cw hooks uninstall", "cw hooks uninstall --worktree ../wt-tokens"],
        handler=cmd_uninstall,
    )
    for parser in (install, uninstall):
        parser.add_argument(
            "--worktree", metavar="DIR", help="the worktree (default: the git top level here)"
        )
        parser.add_argument(
            "--provider", choices=PROVIDERS, default="claude", help="the agent CLI (default claude)"
        )
    install.add_argument(
        "--agent", metavar="ID_OR_NAME", help="write an identity file for this agent"
    )


def cmd_hook(args: argparse.Namespace, ctx: Context) -> int:
    return run_hook(args.provider, args.event, stdin=ctx.stdin, stdout=ctx.stdout)


def cmd_install(args: argparse.Namespace, ctx: Context) -> int:
    worktree = _worktree(args)
    path = install_hooks(worktree, args.provider)
    ctx.out(f"installed the cw hooks in {path}")
    if args.agent:
        agent = ctx.client.query("agent.get", {"id": args.agent})
        own_token = getattr(args, "token", None) or ctx.runtime.env.get("CW_TOKEN")
        if own_token and ctx.agent_id in (agent["id"], agent.get("name")):
            token, note = own_token, "with the token of this shell"
        else:
            issued = ctx.client.mutation("agent.rotateToken", {"id": agent["id"]})
            token, note = (
                str(issued["token"]),
                "with a new token (the previous one stopped working)",
            )
        identity = write_identity(worktree, str(agent["id"]), token, ctx.url)
        ctx.out(f"wrote {identity} for agent {agent.get('name')} ({agent['id']}) {note}")
    return EXIT_OK


def cmd_uninstall(args: argparse.Namespace, ctx: Context) -> int:
    worktree = _worktree(args)
    removed = uninstall_hooks(worktree, args.provider)
    path = worktree / CONFIG_FILES[args.provider]
    ctx.out(f"removed the cw hooks from {path}" if removed else f"no cw hooks in {path}")
    identity = worktree / STATE_DIR / IDENTITY_FILE
    if identity.exists() and not any(has_hooks(worktree, p) for p in PROVIDERS):
        identity.unlink()
        ctx.out(f"removed {identity}")
    return EXIT_OK
