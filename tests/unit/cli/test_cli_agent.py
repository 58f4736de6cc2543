"""``cw agent show``: what it says about an agent's last answering run."""

from __future__ import annotations

from crosswalk.cli.agent import render_agent


def test_the_last_answering_run_and_what_it_left_uncommitted_are_shown() -> None:
    agent = {
        "id": "a1",
        "name": "wise-owl",
        "status": "idle",
        "lastAnsweringRun": {
            "sessionNumber": 3,
            "questionIds": ["c1", "c2"],
            "outcome": "answered",
            "leftChanges": ["notes.md", "src/x.py"],
        },
    }
    text = render_agent(agent)
    assert "last answering run: session 3, 2 question(s), answered" in text
    assert "left uncommitted: notes.md, src/x.py" in text
    running = {**agent, "lastAnsweringRun": {"sessionNumber": 4, "questionIds": ["c3"]}}
    assert "session 4, 1 question(s), running" in render_agent(running)
    assert "answering" not in render_agent({**agent, "lastAnsweringRun": None})
