"""Per-account config directories: private (0700 directory, 0600 files)."""

from __future__ import annotations

import os
from pathlib import Path

from crosswalk.domain.rows import Account
from crosswalk.fsmodes import private_dir
from crosswalk.runner.providers import Provider


def write_account_dir(directory: Path, provider: Provider, account: Account) -> Path:
    """Write the account's files into ``directory`` (created 0700), each 0600 and
    atomically, so the CLI never reads half a credentials file."""
    private_dir(directory)
    for name, content in provider.account_files(account).items():
        path = directory / name
        partial = path.with_name(path.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
        partial.chmod(0o600)
        partial.replace(path)
    return directory
