"""`cw serve` warns when it listens beyond this machine."""

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
