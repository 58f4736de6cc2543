"""The ``cw`` client path must not load server code (like click's ``test_imports.py``).

``cw`` runs many times per agent session; importing SQLAlchemy, Starlette or Pydantic
would cost more than the whole command. Each check runs ``cw`` in a fresh interpreter
and looks at ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

FORBIDDEN = (
    "sqlalchemy",
    "starlette",
    "pydantic",
    "httpx",
    "uvicorn",
    "anyio",
    "alembic",
    "crosswalk.server",
    "crosswalk.db",
    "crosswalk.services",
    "crosswalk.runner",
    "mcp",
    "mcp_types",
)
#: Not forbidden for every command (``https://`` needs ``ssl``), but a plain ``http://``
#: request must not load them: ``http.client`` and the ``email`` parser it brings cost
#: about 20 ms, a third of a ``cw`` command (``crosswalk.cli.transport`` replaces them).
HEAVY_FOR_HTTP = ("http.client", "email", "ssl", "urllib.request")

WRAPPER = """
import contextlib, io, json, sys
from crosswalk.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_cw(*argv: str, tmp_path: Path, stdin: str = "", **extra_env: str) -> tuple[int, list[str]]:
    env = {**os.environ, "CW_HOME": str(tmp_path), "CW_AGENT_ID": "me", **extra_env}
    if "CW_TOKEN" not in extra_env:
        env.pop("CW_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=30,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], report["modules"]


def _loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def _forbidden(modules: list[str]) -> list[str]:
    return _loaded(modules, FORBIDDEN)


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--help"],
        ["ask", "--help"],
        ["mcp", "--help"],
        ["mcp", "install", "--help"],
    ],
)
def test_no_server_imports_without_a_request(argv: list[str], tmp_path: Path) -> None:
    code, modules = _run_cw(*argv, tmp_path=tmp_path)
    assert code == 0
    assert _forbidden(modules) == []
    assert "crosswalk.cli.transport" not in modules  # loads only when a command needs it
    assert _loaded(modules, HEAVY_FOR_HTTP) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["conversation", "get", "x"],
        ["ask", "--agent", "someone", "a question"],
        ["ask", "--user", "a question for the person"],
        ["listen", "--follow", "--timeout", "1"],
        ["initiative", "list"],
        ["phase", "list"],
        ["task", "ready"],
        ["project", "list"],
        ["page", "list"],
        ["agent", "list"],
        ["account", "list"],
        ["proposal", "list"],
        ["message", "list"],
        ["inbox"],
        ["logs", "show", "someone"],
    ],
)
def test_no_server_imports_on_a_request(argv: list[str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_dead_port()}/trpc"
    code, modules = _run_cw("--url", url, *argv, tmp_path=tmp_path)
    assert code == 4  # it did try to reach the server
    assert "crosswalk.cli.transport" in modules
    assert _forbidden(modules) == []
    assert _loaded(modules, HEAVY_FOR_HTTP) == []


def test_cw_mcp_relays_with_the_standard_library_alone(tmp_path: Path) -> None:
    """`cw mcp` forwards to the server's MCP endpoint: no SDK, no third-party package,
    nothing a plain `http://` request does not need (the protocol is the server's)."""
    url = f"http://127.0.0.1:{_dead_port()}/trpc"
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t"},
    }}  # fmt: skip
    code, modules = _run_cw(
        "mcp", tmp_path=tmp_path, stdin=json.dumps(initialize) + "\n", CW_URL=url, CW_TOKEN="t"
    )
    assert code == 0
    assert "crosswalk.cli.transport" in modules  # it did try to reach the server
    bare = subprocess.run(  # what any interpreter here loads (site's .pth hooks)
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    ours = set(modules) - set(json.loads(bare.stdout))
    third_party = {m.split(".")[0] for m in ours if m.split(".")[0] not in sys.stdlib_module_names}
    assert third_party == {"crosswalk"}
    assert _forbidden(modules) == []
    assert _loaded(modules, HEAVY_FOR_HTTP) == []


def test_https_urls_still_load_ssl(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts, then hangs up before any TLS handshake
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        hang_up = threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True)
        hang_up.start()
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/trpc"
        code, modules = _run_cw("--url", url, "conversation", "get", "x", tmp_path=tmp_path)
        hang_up.join(timeout=10)
    assert code == 4
    assert "ssl" in modules
    assert "http.client" not in modules


def _installed_cw() -> str:
    beside = Path(sys.executable).with_name("cw")
    if beside.exists():
        return str(beside)
    found = shutil.which("cw")
    if found is None:
        pytest.fail("the cw console script is not installed (pip install -e .)")
    return found


def test_installed_console_script_runs() -> None:
    from crosswalk import __version__

    done = subprocess.run(
        [_installed_cw(), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"cw {__version__}\n", "")


def test_python_dash_m_crosswalk_runs() -> None:
    from crosswalk import __version__

    done = subprocess.run(
        [sys.executable, "-m", "crosswalk", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"cw {__version__}\n")


def test_the_hook_loads_only_what_it_needs(tmp_path: Path) -> None:
    """``cw hook`` runs after every tool call: no argument parser, no pathlib, and none of
    ``socket.py``, ``urllib.parse`` or the idna codec (``crosswalk.cli.transport``)."""
    url = f"http://127.0.0.1:{_dead_port()}/trpc"
    env = {**os.environ, "CW_HOME": str(tmp_path), "CW_AGENT_ID": "me", "CW_TOKEN": "t"}
    env.update(CW_URL=url, CLAUDE_PROJECT_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, "hook", "claude", "PostToolUse"],
        input='{"session_id": "s1"}',
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["code"] == 0
    assert "refused" in (tmp_path / ".crosswalk" / "hook.log").read_text()  # it did try
    modules = report["modules"]
    assert _forbidden(modules) == []
    assert _loaded(modules, HEAVY_FOR_HTTP) == []
    lean = ("argparse", "pathlib", "socket", "urllib", "encodings.idna", "typing")
    assert _loaded(modules, lean) == []
