"""``cw account import``: an account from a login the person already has on this machine.

Claude Code keeps its login in ``.credentials.json`` (``{"claudeAiOauth": {...}}``) and its
settings in ``.claude.json``, both in ``$CLAUDE_CONFIG_DIR``; by default the first is in
``~/.claude`` and the second in the home directory. Codex keeps ``auth.json`` and
``config.toml`` in ``$CODEX_HOME`` (default ``~/.codex``). The files are read here, checked
(a clear error for a missing or malformed one, before anything is sent) and stored as the
account's credentials and config, which the runner writes back into each agent's private
config directory (docs/runner.md). Importing the same login again updates the account.
Standard library only, like the rest of the client.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from crosswalk.cli.commands import add_command
from crosswalk.cli.errors import EXIT_OK, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

PROVIDERS = ("claude", "codex")
#: Parts of ``.claude.json`` about the person's own directories: left out of the account.
CLAUDE_LOCAL_KEYS = ("projects",)


class Login:
    """What an import sends: the files' contents, the email found in them, and where."""

    __slots__ = ("config", "credentials", "directory", "email", "read")

    def __init__(
        self,
        directory: Path,
        credentials: str,
        config: str | None,
        email: str | None,
        read: list[Path],
    ) -> None:
        self.directory = directory
        self.credentials = credentials
        self.config = config
        self.email = email
        self.read = read  # the files read, for the confirmation


def register_import(group: Subparsers) -> None:
    imp = add_command(
        group,
        "import",
        help="add an account from the Claude Code or Codex login on this machine",
        description=(
            "Read an existing login and store it as an account (admin only). Claude Code:\n"
            ".credentials.json and .claude.json in DIR (default $CLAUDE_CONFIG_DIR, else\n"
            "~/.claude, with ~/.claude.json beside it). Codex: auth.json and config.toml in\n"
            "DIR (default $CODEX_HOME, else ~/.codex). The email comes from the login\n"
            "unless --email is given. Importing the same login again (same email and\n"
            "provider) updates that account. The files are never shown again."
        ),
        examples=[
            "cw account import",
            "cw account import --provider codex",
            "cw account import --from /srv/logins/claude-ops --email ops@example.com",
        ],
        handler=cmd_import,
    )
    imp.add_argument(
        "--provider", choices=PROVIDERS, default="claude", help="whose login (default claude)"
    )
    imp.add_argument("--from", dest="source", metavar="DIR", help="the CLI's config directory")
    imp.add_argument("--email", metavar="EMAIL", help="the account's email (default: the login's)")
    imp.add_argument("--sort-order", type=int, metavar="N", help="order among never-used ones")


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    env = ctx.runtime.env
    login = (
        read_claude(args.source, env) if args.provider == "claude" else read_codex(args.source, env)
    )
    email = args.email or login.email
    if not email:
        raise UsageError(
            f"the {args.provider} login in {login.directory} does not say whose it is "
            "(no email in it): give one with --email"
        )
    payload: dict[str, Any] = {"credentials": login.credentials}
    if login.config is not None:
        payload["configJson"] = login.config
    if args.sort_order is not None:
        payload["sortOrder"] = args.sort_order
    existing = _find(ctx, email, args.provider)
    if existing is None:
        account = ctx.client.mutation(
            "account.create", {"email": email, "provider": args.provider, **payload}
        )
        verb = "imported"
    else:
        account = ctx.client.mutation("account.update", {"id": existing, **payload})
        verb = "updated"
    files = ", ".join(map(str, login.read))
    ctx.emit(
        account,
        lambda a: (
            f"{verb} {args.provider} account {a.get('email')} ({a.get('id')}) from "
            f"{files}; stored, never shown again"
        ),
    )
    return EXIT_OK


def _find(ctx: Context, email: str, provider: str) -> str | None:
    """The id of the provider's account with this email, if there is one."""
    cursor = None
    while True:
        query: dict[str, Any] = {"provider": provider, "limit": 500}
        if cursor:
            query["cursor"] = cursor
        page = ctx.client.query("account.list", query)
        for account in page.get("items") or []:
            if account.get("email") == email:
                return str(account["id"])
        cursor = page.get("nextCursor")
        if not cursor:
            return None


# -- Claude Code ---------------------------------------------------------------------------


def read_claude(source: str | None, env: Mapping[str, str]) -> Login:
    home = _home(env)
    directory = Path(source or env.get("CLAUDE_CONFIG_DIR") or home / ".claude")
    _require_directory(directory, "Claude Code")
    credentials_path = directory / ".credentials.json"
    credentials = _json_object(credentials_path, "Claude Code", "log in with `claude` first")
    if not isinstance(credentials.get("claudeAiOauth"), dict):
        raise UsageError(
            f"{credentials_path} holds no Claude Code login (no claudeAiOauth in it); log in "
            "with `claude` (/login) and import again, or give an API key to agents through "
            "the server's environment (ANTHROPIC_API_KEY) instead"
        )
    read = [credentials_path]
    config_path = directory / ".claude.json"
    if source is None and not env.get("CLAUDE_CONFIG_DIR") and not config_path.exists():
        config_path = home / ".claude.json"  # the default layout keeps it here
    config = None
    email = None
    if config_path.exists():
        settings = _json_object(config_path, "Claude Code", "run `claude` once to rewrite it")
        for key in CLAUDE_LOCAL_KEYS:
            settings.pop(key, None)
        account = settings.get("oauthAccount")
        if isinstance(account, dict) and isinstance(account.get("emailAddress"), str):
            email = account["emailAddress"]
        config = json.dumps(settings)
        read.append(config_path)
    return Login(directory, _text(credentials_path), config, email, read)


# -- Codex -----------------------------------------------------------------------------------


def read_codex(source: str | None, env: Mapping[str, str]) -> Login:
    directory = Path(source or env.get("CODEX_HOME") or _home(env) / ".codex")
    _require_directory(directory, "Codex")
    auth_path = directory / "auth.json"
    auth = _json_object(auth_path, "Codex", "log in with `codex login` first")
    tokens = auth.get("tokens")
    if not isinstance(tokens, dict) and not auth.get("OPENAI_API_KEY"):
        raise UsageError(
            f"{auth_path} holds no Codex login (neither tokens nor OPENAI_API_KEY); log in "
            "with `codex login` and import again"
        )
    read = [auth_path]
    config = None
    config_path = directory / "config.toml"
    if config_path.exists():
        import tomllib

        text = _text(config_path)
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(
                f"{config_path} is not valid TOML ({exc}); fix it, or move it away to import "
                "the login without it"
            ) from None
        config = json.dumps(text)  # the account's config holds config.toml as a JSON string
        read.append(config_path)
    email = _jwt_email(tokens.get("id_token")) if isinstance(tokens, dict) else None
    return Login(directory, _text(auth_path), config, email, read)


def _jwt_email(token: Any) -> str | None:
    """The ``email`` claim of an OpenAI id token (read, not verified: it only names the
    account; the server never trusts it for anything else)."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(claims, dict):
        return None
    email = claims.get("email")
    if not isinstance(email, str):
        profile = claims.get("https://api.openai.com/profile")
        email = profile.get("email") if isinstance(profile, dict) else None
    return email if isinstance(email, str) and email else None


# -- files -------------------------------------------------------------------------------------


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def _require_directory(directory: Path, cli: str) -> None:
    if not directory.is_dir():
        raise UsageError(
            f"no {cli} login found: {directory} is not a directory; log in with the {cli} "
            "CLI first, or point --from at the config directory that holds the login"
        )


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _json_object(path: Path, cli: str, fix: str) -> dict[str, Any]:
    if not path.exists():
        raise UsageError(
            f"no {cli} login in {path.parent}: {path.name} is missing; "
            f"{fix}, or point --from at the config directory that holds it"
        )
    text = _text(path)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a JSON object as {cli} writes it; {fix}")
    return value
