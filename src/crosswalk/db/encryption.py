"""Account secrets encrypted at rest: ``credentials`` and ``configJson``.

The key never lives in the database, so a dump, a copied file or its WAL reveals
nothing. It comes from ``CW_SECRET_KEY`` (for several servers sharing one database),
else from ``<data dir>/secret-key`` (0600, created with a fresh key on first start).
Either holds one Fernet key per line (``CW_SECRET_KEY``: comma separated): the first
encrypts, every one decrypts, so a key is rotated by putting the new one first; the
server re-encrypts every account with it at start (``rotate``), after which the old
line can go (docs/security.md).

An encrypted value is stored as ``fernet:<token>``; a value without the prefix is
plain text written before encryption existed (migration 0002 encrypts those).

The cipher travels with the engine (``attach``/``box_of``), so the column type
(``SecretText``) finds it for whichever connection writes or reads.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine
from sqlalchemy.engine import Dialect

from crosswalk.domain.errors import InvalidSettingError, StartupError

PREFIX = "fernet:"
ENV_VAR = "CW_SECRET_KEY"
_ATTRIBUTE = "crosswalk_secret_box"


class SecretBox:
    """Encrypts with the first key, decrypts with any."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self.key_count = len(keys)

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption; migration 0002 encrypts it
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyMismatchError() from None

    def rotate(self, stored: str) -> str:
        """``stored`` encrypted with the first key (plain text gets encrypted too)."""
        if not stored.startswith(PREFIX):
            return self.encrypt(stored)
        try:
            token = self._fernet.rotate(stored[len(PREFIX) :].encode())
        except InvalidToken:
            raise SecretKeyMismatchError() from None
        return PREFIX + token.decode()


class SecretKeyMismatchError(StartupError):
    def __init__(self) -> None:
        super().__init__(
            "an account secret in the database was encrypted with a key the server does "
            f"not have: restore the previous {ENV_VAR} or <data dir>/secret-key (keep the "
            "old key as a second line while rotating, see docs/security.md)",
            exit_code=15,
        )


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _parse(text: str, source: str) -> list[bytes]:
    keys = [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]
    if not keys:
        raise InvalidSettingError(source, f"{source} holds no key; {_HOW_TO_MAKE}")
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            raise InvalidSettingError(
                source, f"{source} holds something that is not a Fernet key; {_HOW_TO_MAKE}"
            ) from None
    return [key.encode() for key in keys]


_HOW_TO_MAKE = (
    "a key is 32 url-safe base64-encoded bytes, made with: python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def load_secret_box(key_file: Path, configured: str | None = None) -> SecretBox:
    """The keys ``configured`` (``CW_SECRET_KEY``), else those in ``key_file``, which is
    created (0600, with a fresh key) when missing and tightened to 0600 when looser."""
    if configured:
        return SecretBox(_parse(configured, ENV_VAR))
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key() + "\n")
    if key_file.is_dir():
        raise StartupError(
            f"{key_file} is a directory, where the secret key file belongs: move it away "
            "and start again (a new key is made only when no account secrets exist yet)",
            exit_code=12,
        )
    from crosswalk.fsmodes import tighten

    tighten(key_file, 0o600)
    return SecretBox(_parse(key_file.read_text(), str(key_file)))


def attach(engine: Engine, box: SecretBox | None) -> Engine:
    setattr(engine.dialect, _ATTRIBUTE, box)
    return engine


def box_of(dialect: Dialect) -> SecretBox | None:
    box: SecretBox | None = getattr(dialect, _ATTRIBUTE, None)
    return box
