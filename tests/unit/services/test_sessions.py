"""Dashboard sign-in: one-time links, sessions that expire, persist and end."""

from __future__ import annotations

import stat
from pathlib import Path

from crosswalk.services.sessions import LINK_TTL_S, SESSION_TTL_S, SessionStore
from tests.unit.services.fake_clock import FakeClock


def test_a_link_code_signs_in_once_and_only_before_it_expires() -> None:
    clock = FakeClock()
    store = SessionStore("cw_admin", clock=clock)
    code = store.create_link_code()
    started = store.redeem_link_code(code)
    assert started is not None
    assert store.find(started.cookie) == started.session
    assert store.redeem_link_code(code) is None  # spent

    late = store.create_link_code()
    clock.advance(LINK_TTL_S + 1)
    assert store.redeem_link_code(late) is None
    assert store.redeem_link_code("made-up") is None


def test_only_the_admin_token_signs_in() -> None:
    store = SessionStore("cw_admin")
    assert store.sign_in("cw_other") is None
    assert store.sign_in("") is None
    started = store.sign_in("cw_admin\n")
    assert started is not None
    assert started.session.csrf and started.session.csrf != started.cookie


def test_sessions_expire_and_end() -> None:
    clock = FakeClock()
    store = SessionStore("cw_admin", clock=clock)
    first = store.start()
    second = store.start()
    store.end(first.cookie)
    assert store.find(first.cookie) is None
    assert store.find(second.cookie) is not None
    clock.advance(SESSION_TTL_S + 1)
    assert store.find(second.cookie) is None
    assert store.find(None) is None


def test_sessions_outlive_a_restart_but_links_and_ended_sessions_do_not(tmp_path: Path) -> None:
    path = tmp_path / "dashboard-sessions.json"
    store = SessionStore("cw_admin", path=path)
    kept = store.start()
    ended = store.start()
    store.end(ended.cookie)
    code = store.create_link_code()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kept.cookie not in path.read_text()  # only hashes are stored

    again = SessionStore("cw_admin", path=path)
    assert again.find(kept.cookie) == kept.session
    assert again.find(ended.cookie) is None
    assert again.redeem_link_code(code) is None


def test_an_unreadable_sessions_file_means_signing_in_again(tmp_path: Path) -> None:
    path = tmp_path / "dashboard-sessions.json"
    path.write_text("{not json")
    store = SessionStore("cw_admin", path=path)
    assert store.find("anything") is None
    assert store.start().cookie
