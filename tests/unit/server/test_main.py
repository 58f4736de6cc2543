"""`cw serve` warns when it listens beyond this machine, and refuses a worker on SQLite."""

from __future__ import annotations

import pytest

from crosswalk.server.main import exposure_warning


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_needs_no_warning(host: str) -> None:
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_other_addresses_are_warned_about(host: str) -> None:
    warning = exposure_warning(host)
    assert warning is not None
    assert host in warning and "token" in warning


def test_a_worker_on_sqlite_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crosswalk.server.main import serve
    from crosswalk.server.startup import EXIT_STARTUP

    assert serve(database_url="sqlite:////nonexistent/cw.db", worker=True) == EXIT_STARTUP
    error = capsys.readouterr().err
    assert "--worker" in error and "PostgreSQL" in error and "Traceback" not in error
