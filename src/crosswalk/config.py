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


def admin_token_path() -> Path:
    return data_dir() / "admin-token"
