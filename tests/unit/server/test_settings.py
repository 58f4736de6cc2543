"""The server's settings: one object, one parser, one exit code, documented in one place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from crosswalk.domain.errors import InvalidSettingError
from crosswalk.server.settings import ServerSettings, markdown, server_only_variables
from crosswalk.server.startup import EXIT_SETTING

DOC = Path(__file__).resolve().parents[3] / "docs" / "settings.md"


def test_the_committed_reference_matches_the_settings() -> None:
    assert DOC.read_text() == markdown(), (
        "docs/settings.md is stale: run `python -m crosswalk.server.settings > docs/settings.md`"
    )


def test_every_setting_is_a_documented_variable() -> None:
    text = markdown()
    for name, field in ServerSettings.model_fields.items():
        if name == "agent_env":
            continue
        assert field.alias is not None and field.alias.startswith("CW_"), name
        assert field.description, name
        assert f"| `{field.alias}` | {field.description.replace('|', chr(92) + '|')} |" in text


def test_unset_and_empty_variables_keep_their_documented_defaults() -> None:
    read = ServerSettings.from_environ({"CW_PAGE_SIZE": "", "CW_DB_THREADS": ""})
    assert read == ServerSettings()
    assert (read.max_pending_questions, read.page_size) == (100, 50)
    assert (read.db_pool_size, read.db_threads) == (10, None)
    assert (read.agent_idle_after_s, read.agent_stop_grace_s) == (300.0, 10.0)
    assert (read.max_answering, read.answer_timeout_s) == (4, 600.0)
    assert read.data_dir == Path("~/.crosswalk").expanduser()
    assert read.database() == f"sqlite:///{read.data_dir / 'crosswalk.db'}"


@pytest.mark.parametrize(
    ("variable", "raw", "field", "value"),
    [
        ("CW_HOME", "/srv/cw", "data_dir", Path("/srv/cw")),
        (
            "CW_DATABASE_URL",
            "postgresql+psycopg://h/db",
            "database_url",
            "postgresql+psycopg://h/db",
        ),
        ("CW_SERVER_ID", "cw-1", "server_id", "cw-1"),
        ("CW_DB_POOL_SIZE", "3", "db_pool_size", 3),
        ("CW_DB_THREADS", "7", "db_threads", 7),
        ("CW_MAX_PENDING_QUESTIONS", "3", "max_pending_questions", 3),
        ("CW_PAGE_SIZE", "7", "page_size", 7),
        ("CW_AGENT_IDLE_AFTER_S", "60", "agent_idle_after_s", 60.0),
        ("CW_CLAUDE_PATH", "/opt/claude", "claude_path", "/opt/claude"),
        ("CW_CODEX_SANDBOX", "danger-full-access", "codex_sandbox", "danger-full-access"),
        ("CW_AGENT_STOP_GRACE_S", "2.5", "agent_stop_grace_s", 2.5),
        ("CW_MAX_ANSWERING", "2", "max_answering", 2),
        ("CW_ANSWER_TIMEOUT_S", "90", "answer_timeout_s", 90.0),
        ("CW_MAX_AGENTS", "12", "max_agents", 12),
        ("CW_SERVER_LEASE_S", "3", "server_lease_s", 3.0),
    ],
)
def test_each_variable_sets_its_field(variable: str, raw: str, field: str, value: Any) -> None:
    assert getattr(ServerSettings.from_environ({variable: raw}), field) == value


@pytest.mark.parametrize(
    ("variable", "raw", "accepted"),
    [
        ("CW_DB_THREADS", "0", "a whole number of at least 1"),
        ("CW_DB_POOL_SIZE", "lots", "a whole number of at least 1"),
        ("CW_PAGE_SIZE", "lots", "a whole number from 1 to 100000"),
        ("CW_MAX_PENDING_QUESTIONS", "1e3", "a whole number from 1 to 100000"),
        ("CW_MAX_PENDING_QUESTIONS", "-1", "a whole number from 1 to 100000"),
        ("CW_AGENT_IDLE_AFTER_S", "soon", "a number of seconds from 1 to 86400"),
        ("CW_AGENT_STOP_GRACE_S", "soon", "a number of seconds from 0 to 3600"),
        ("CW_MAX_ANSWERING", "0", "a whole number from 1 to 1000"),
        ("CW_ANSWER_TIMEOUT_S", "nan", "a number of seconds from 1 to 86400"),
        ("CW_MAX_AGENTS", "0", "a whole number from 1 to 1000"),
        ("CW_SERVER_LEASE_S", "1", "a number of seconds from 2 to 3600"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_accepted(
    variable: str, raw: str, accepted: str
) -> None:
    with pytest.raises(InvalidSettingError) as raised:
        ServerSettings.from_environ({variable: raw})
    assert raised.value.message == f"{variable}={raw!r} is not {accepted}; fix or unset it"
    assert (raised.value.setting, raised.value.exit_code) == (variable, EXIT_SETTING)


def test_threads_default_to_twice_the_cpus_within_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert ServerSettings().database_threads() == 4
    assert ServerSettings(db_pool_size=1).database_threads() == 1  # never more than connections
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)))
    assert ServerSettings().database_threads() == 10
    assert ServerSettings(db_threads=7).database_threads() == 7  # an explicit count wins


def test_the_parts_get_the_values_they_use() -> None:
    settings = ServerSettings(
        home=Path("/srv/cw"),
        page_size=2,
        claude_path="/opt/claude",
        claude_permission_mode="bypassPermissions",
        agent_stop_grace_s=3,
        max_answering=2,
        answer_timeout_s=90,
    )
    assert settings.limits().page_size == 2
    runner = settings.runner(server_url="http://127.0.0.1:9/trpc", server_id="cw-1")
    assert runner.data_dir == Path("/srv/cw")
    assert (runner.server_url, runner.server_id) == ("http://127.0.0.1:9/trpc", "cw-1")
    assert runner.executables == {"claude": "/opt/claude"}
    assert runner.permission_modes == {"claude": "bypassPermissions"}
    assert (runner.stop_grace_s, runner.max_answering, runner.answer_timeout_s) == (3, 2, 90)
    assert settings.server_name(7878) == f"{os.uname().nodename}:7878"
    assert ServerSettings(server_id="cw-2").server_name(7878) == "cw-2"
    deployed = ServerSettings(max_agents=6, server_lease_s=12).runner(
        worker=True, share_branches=True
    )
    assert (deployed.max_agents, deployed.lease_s, deployed.heartbeat_s) == (6, 12, 3)
    assert deployed.worker and deployed.share_branches
    assert settings.runner().max_agents >= 1  # by default from the machine's CPUs and memory


def test_agents_inherit_the_environment_without_the_servers_settings() -> None:
    environ = {
        "PATH": "/usr/bin",
        "A": "b",
        "CW_FAKE": "kept",
        "CW_HOME": "/x",
        "CW_TOKEN": "t",
        "CW_SECRET_KEY": "k",
        "CW_MAX_ANSWERING": "2",
    }
    base_env = ServerSettings.from_environ(environ).runner().base_env
    assert base_env["A"] == "b" and base_env["CW_FAKE"] == "kept"
    assert base_env["PATH"].startswith("/usr/bin")
    assert not {"CW_HOME", "CW_TOKEN", "CW_SECRET_KEY", "CW_MAX_ANSWERING"} & set(base_env)
    assert {"CW_URL", "CW_AGENT_ID", "CW_DB_THREADS"} <= server_only_variables()


def test_the_secret_key_is_never_shown() -> None:
    assert "s3cret" not in repr(ServerSettings(secret_key="s3cret"))
