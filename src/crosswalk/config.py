"""Where crosswalk keeps its data, and how a server is addressed. Standard library only."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/trpc"


def data_dir() -> Path:
    """``$CW_HOME``, else ``~/.crosswalk``."""
    home = os.environ.get("CW_HOME")
    return Path(home).expanduser() if home else Path.home() / ".crosswalk"


def default_database_url() -> str:
    """``$CW_DATABASE_URL``, else a SQLite file in the data directory."""
    url = os.environ.get("CW_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'crosswalk.db'}"


def server_id(port: int) -> str:
    """This server's name in a deployment: ``$CW_SERVER_ID``, else ``<host name>:<port>``.
    It stays the same across restarts, so a restarted server finds the agents it runs."""
    configured = os.environ.get("CW_SERVER_ID")
    if configured:
        return configured
    return f"{os.uname().nodename}:{port}"


def admin_token_path() -> Path:
    return data_dir() / "admin-token"
