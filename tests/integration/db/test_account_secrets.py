"""Account secrets at rest: encrypted with the engine's key, never stored in plain text;
migration 0002 encrypts rows written before; a second key rotates them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from crosswalk.db import migrate
from crosswalk.db.encryption import SecretBox, SecretKeyMismatchError, generate_key, load_secret_box
from crosswalk.db.engine import create_database_engine
from crosswalk.db.repositories.sqlalchemy import SqlAlchemyAccountRepository
from crosswalk.db.repositories.sqlalchemy.account import check_secret_key, rotate_account_secrets
from crosswalk.domain.errors import InvalidSettingError
from crosswalk.domain.rows import NewAccount

SECRET = "sk-ant-plain-secret"


def raw_secrets(engine: Engine) -> list[tuple[str | None, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT credentials, config_json FROM accounts ORDER BY email"))
        return [(row[0], row[1]) for row in rows]


def test_secrets_are_stored_encrypted_and_read_back_plain(engine: Engine) -> None:
    repo = SqlAlchemyAccountRepository(engine)
    account = repo.create(NewAccount(email="a@x", credentials=SECRET, config_json='{"k":1}'))

    [(credentials, config)] = raw_secrets(engine)
    assert credentials is not None and credentials.startswith("fernet:")
    assert config is not None and config.startswith("fernet:")
    assert SECRET not in credentials
    assert repo.get(account.id).credentials == SECRET
    assert repo.get(account.id).config_json == '{"k":1}'


def test_migration_0002_encrypts_plain_rows_and_0001_gets_them_back(tmp_path: Path) -> None:
    box = SecretBox([generate_key().encode()])
    engine = create_database_engine(f"sqlite:///{tmp_path / 'old.db'}", secret_box=box)
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, provider, credentials, config_json, "
                    "is_exhausted, sort_order, created_at, updated_at) "
                    "VALUES ('a1', 'old@x', 'claude', :c, NULL, 0, 0, 0, 0)"
                ),
                {"c": SECRET},
            )

        migrate.upgrade(engine, "head")

        [(credentials, _)] = raw_secrets(engine)
        assert credentials is not None and credentials.startswith("fernet:")
        assert SqlAlchemyAccountRepository(engine).get("a1").credentials == SECRET
        migrate.downgrade(engine, "0001")
        assert raw_secrets(engine) == [(SECRET, None)]
    finally:
        engine.dispose()


def test_migration_0002_without_a_key_says_how_to_give_one(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, provider, credentials, is_exhausted, "
                    "sort_order, created_at, updated_at) "
                    "VALUES ('a1', 'old@x', 'claude', 'plain', 0, 0, 0, 0)"
                )
            )
        with pytest.raises(RuntimeError, match="CW_SECRET_KEY"):
            migrate.upgrade(engine, "head")
        assert raw_secrets(engine) == [("plain", None)]  # nothing half-done
    finally:
        engine.dispose()


def test_a_second_key_rotates_every_secret_to_the_first(tmp_path: Path) -> None:
    old, new = generate_key().encode(), generate_key().encode()
    engine = create_database_engine(f"sqlite:///{tmp_path / 'r.db'}", secret_box=SecretBox([old]))
    migrate.upgrade(engine, "head")
    SqlAlchemyAccountRepository(engine).create(NewAccount(email="a@x", credentials=SECRET))
    engine.dispose()

    both = SecretBox([new, old])
    engine = create_database_engine(f"sqlite:///{tmp_path / 'r.db'}", secret_box=both)
    try:
        assert rotate_account_secrets(engine, both) == 1
        check_secret_key(engine, SecretBox([new]))  # the old key is no longer needed
        with pytest.raises(SecretKeyMismatchError):
            check_secret_key(engine, SecretBox([old]))
    finally:
        engine.dispose()


def test_the_key_file_is_made_private_and_the_environment_wins(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"
    box = load_secret_box(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert box.decrypt(box.encrypt("x")) == "x"
    key_file.chmod(0o644)
    load_secret_box(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600

    shared = generate_key()
    from_env = load_secret_box(tmp_path / "unused", shared)
    assert not (tmp_path / "unused").exists()
    assert SecretBox([shared.encode()]).decrypt(from_env.encrypt("y")) == "y"
    with pytest.raises(InvalidSettingError, match="CW_SECRET_KEY"):
        load_secret_box(key_file, "not-a-key")
