"""The small rules every layer asks about live once, in the domain.

The agent status sets (``domain/enums.py``) and an account's exhaustion
(``domain/accounts.py``) are checked here, and a scan of the sources fails on a status
set written out again outside ``domain/``, where it could drift from the others.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosswalk.domain.accounts import is_exhausted
from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    ENDED_AGENT_STATUSES,
    LIVE_AGENT_STATUSES,
    AgentStatus,
)
from crosswalk.domain.rows import Account

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "crosswalk"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_active_and_ended_split_the_statuses_and_live_is_active() -> None:
    assert set(ACTIVE_AGENT_STATUSES) | set(ENDED_AGENT_STATUSES) == set(AgentStatus)
    assert not set(ACTIVE_AGENT_STATUSES) & set(ENDED_AGENT_STATUSES)
    assert set(LIVE_AGENT_STATUSES) < set(ACTIVE_AGENT_STATUSES)
    assert AgentStatus.IDLE not in LIVE_AGENT_STATUSES


def _status_literals(source: str, name: str) -> list[str]:
    """Tuples, lists and sets of two or more ``AgentStatus`` members written in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Tuple | ast.List | ast.Set):
            continue
        members = [
            element
            for element in node.elts
            if isinstance(element, ast.Attribute)
            and isinstance(element.value, ast.Name)
            and element.value.id == "AgentStatus"
        ]
        if len(members) >= 2:
            found.append(f"{name}:{node.lineno}")
    return found


def test_no_status_set_is_written_outside_the_domain() -> None:
    found = [
        where
        for path in sorted(PACKAGE.rglob("*.py"))
        if "domain" not in path.relative_to(PACKAGE).parts
        for where in _status_literals(path.read_text(), str(path.relative_to(PACKAGE)))
    ]
    assert found == []


def test_the_scan_finds_a_status_set_however_it_is_written() -> None:
    source = (
        "LIVE = (AgentStatus.RUNNING, AgentStatus.WAITING_FOR_INPUT)\n"
        "if status in {AgentStatus.STOPPED, AgentStatus.CRASHED}: pass\n"
        "ONE = (AgentStatus.IDLE,)\n"
    )
    assert _status_literals(source, "probe.py") == ["probe.py:1", "probe.py:2"]


def account(*, exhausted: bool, until: datetime | None) -> Account:
    return Account(
        id="acc",
        email="a@example.com",
        provider="claude",
        config_json=None,
        credentials=None,
        is_exhausted=exhausted,
        exhausted_until=until,
        last_used_at=None,
        sort_order=0,
        created_at=NOW,
        updated_at=NOW,
    )


def test_an_account_is_exhausted_until_its_end_passes() -> None:
    assert not is_exhausted(account(exhausted=False, until=None), NOW)
    assert is_exhausted(account(exhausted=True, until=None), NOW)  # no end given
    assert is_exhausted(account(exhausted=True, until=NOW + timedelta(seconds=1)), NOW)
    assert not is_exhausted(account(exhausted=True, until=NOW), NOW)  # its end has come
    assert not is_exhausted(account(exhausted=True, until=NOW - timedelta(hours=1)), NOW)
