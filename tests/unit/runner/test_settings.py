"""The runner's settings from the environment."""

from __future__ import annotations

import pytest

from crosswalk.domain.errors import InvalidSettingError
from crosswalk.runner.settings import RunnerSettings


def test_a_bad_stop_grace_setting_stops_the_server_with_a_clear_error() -> None:
    with pytest.raises(InvalidSettingError, match="CW_AGENT_STOP_GRACE_S='soon'"):
        RunnerSettings.from_env(env={"CW_AGENT_STOP_GRACE_S": "soon"})
    assert RunnerSettings.from_env(env={"CW_AGENT_STOP_GRACE_S": "2.5"}).stop_grace_s == 2.5


def test_agents_get_no_server_settings_and_find_cw() -> None:
    settings = RunnerSettings.from_env(
        env={"PATH": "/usr/bin", "CW_HOME": "/x", "CW_TOKEN": "t", "CW_FAKE": "kept", "A": "b"}
    )
    assert settings.base_env["A"] == "b"
    assert settings.base_env["CW_FAKE"] == "kept"
    assert "CW_HOME" not in settings.base_env and "CW_TOKEN" not in settings.base_env
    assert settings.base_env["PATH"].startswith("/usr/bin")


def test_answering_settings_default_and_refuse_bad_values() -> None:
    defaults = RunnerSettings.from_env(env={})
    assert (defaults.max_answering, defaults.answer_timeout_s) == (4, 600.0)
    chosen = RunnerSettings.from_env(env={"CW_MAX_ANSWERING": "2", "CW_ANSWER_TIMEOUT_S": "90"})
    assert (chosen.max_answering, chosen.answer_timeout_s) == (2, 90.0)
    with pytest.raises(InvalidSettingError, match="CW_MAX_ANSWERING='0' is not a whole number"):
        RunnerSettings.from_env(env={"CW_MAX_ANSWERING": "0"})
    with pytest.raises(InvalidSettingError, match="CW_ANSWER_TIMEOUT_S='0' is not a number"):
        RunnerSettings.from_env(env={"CW_ANSWER_TIMEOUT_S": "0"})
    assert "CW_MAX_ANSWERING" not in RunnerSettings.from_env(env={"CW_MAX_ANSWERING": "2"}).base_env
