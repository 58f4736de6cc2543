"""Answering runs: an idle agent the runner started is resumed in its own session to
answer the questions waiting for it. The supervisor's side (``Supervisor.answer`` and
how such a run ends) and the scheduler's rules (``AnsweringScheduler``), with the fakes
of git and processes and a real SQLite database."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.integration.runner.fakes import FakeProcess, FakeProcesses, FakeWorktrees
from tests.integration.runner.test_supervisor import (
    INIT,
    LIMIT,
    LIMIT_RESULT,
    RESETS,
    SUCCESS,
    T0,
    Harness,
    RecordedRunEnds,
    ends,
    plan,
    until,
)

from crosswalk.db import create_repositories
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.enums import AgentStatus, ConversationStatus, TaskStatus
from crosswalk.domain.errors import ConflictError, PreconditionFailedError
from crosswalk.domain.rows import (
    Agent,
    AnsweringRun,
    Conversation,
    NewAgent,
    NewAnsweringRun,
    NewTask,
)
from crosswalk.runner import AnsweringScheduler
from crosswalk.runner.supervisor import AccountsExhaustedError
from crosswalk.services.conversations import ConversationService
from crosswalk.services.targets import AgentTarget


class Answering(Harness):
    """The supervisor harness plus the conversation service and the scheduler, all on
    one change stream."""

    scheduler: AnsweringScheduler | None = None
    max_answering: int = 4
    timeout_s: float = 30.0

    def talk(self) -> ConversationService:
        return ConversationService(
            conversations=self.repos.conversations,
            agents=self.repos.agents,
            unit_of_work=lambda: SqlAlchemyUnitOfWork(self.engine, publishers=(self.changes,)),
            changes=self.changes,
        )

    def ask(self, asker: str | None, to: Agent, question: str = "which port?") -> Conversation:
        return self.talk().ask(asker, question, AgentTarget(agent=to.id))

    def answer(self, conversation: Conversation, text: str = "8080") -> None:
        self.talk().answer(conversation.id, text)

    async def idle_agent(self) -> Agent:
        """An agent spawned on the task, whose run ended idle with session S1."""
        agent = await self.spawn()
        self.last().write(INIT, SUCCESS)
        self.last().end(0)
        return await ends(self, agent.id, AgentStatus.IDLE)

    def other_agent(self, name: str = "asker") -> Agent:
        return self.repos.agents.create(NewAgent(name=name, worktree_id="."))

    async def start_scheduler(self) -> AnsweringScheduler:
        self.scheduler = AnsweringScheduler(
            supervisor=self.sup,
            agents=self.repos.agents,
            runs=self.repos.answering_runs,
            answering=self.services().answering,
            changes=self.changes,
            max_answering=self.max_answering,
            timeout_s=self.timeout_s,
            now=lambda: self.now,
            sleep=self.fake_sleep,
        )
        await self.scheduler.start()
        return self.scheduler

    async def fake_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.wake = asyncio.Event()
        await self.wake.wait()

    def runs_of(self, agent: Agent) -> list[AnsweringRun]:
        return list(reversed(self.repos.answering_runs.find_by_agent(agent.id)))

    def status(self, conversation: Conversation) -> ConversationStatus:
        return self.repos.conversations.get(conversation.id).status


@pytest.fixture
def h(engine: Engine, tmp_path: Path) -> Answering:
    harness = Answering(
        engine, create_repositories(engine), FakeWorktrees(), FakeProcesses(), tmp_path
    )
    harness.task = plan(harness.repos)
    return harness


def run(h: Answering, body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        h.build()
        try:
            await body()
        finally:
            if h.scheduler is not None:
                await h.scheduler.close()
            await h.sup.close()

    asyncio.run(main())


def argv_of(process: FakeProcess) -> list[str]:
    return list(process.spec.argv)


# -- the supervisor: one answering run -------------------------------------------------


def test_an_answering_run_resumes_the_session_lists_the_questions_and_ends_idle(
    h: Answering,
) -> None:
    h.run_ends = RecordedRunEnds()

    async def body() -> None:
        agent = await h.idle_agent()
        await until(lambda: len(h.run_ends.told) == 1, "the work to be told")  # type: ignore[union-attr]
        h.repos.tasks.update(agent.task_id or "", {"status": TaskStatus.COMPLETED})
        result = h.agent(agent.id).result
        asker = h.other_agent("alice")
        first = h.ask(asker.id, agent, "which port does the token service use?")
        second = h.ask(None, agent, "what did you change?")

        answering = await h.sup.answer(agent.id)
        process = h.last()
        argv = argv_of(process)
        assert argv[argv.index("--resume") + 1] == "S1"
        assert process.spec.cwd == Path(agent.worktree_id)
        prompt = process.prompt
        assert "only to answer 2 questions" in prompt
        assert "which port does the token service use?" in prompt
        assert f'cw answer {first.id} "YOUR ANSWER"' in prompt
        assert "from agent alice" in prompt
        assert "from the person running crosswalk" in prompt
        assert "Do not change, create or delete any file" in prompt
        assert set(answering.question_ids) == {first.id, second.id}  # same ms: either order
        assert answering.session_number == 2
        now = h.agent(agent.id)
        assert now.status is AgentStatus.RUNNING
        assert now.result == result  # the work's result stays
        assert h.repos.tasks.get(agent.task_id or "").status is TaskStatus.COMPLETED
        with pytest.raises(ConflictError):
            await h.sup.answer(agent.id)

        h.answer(first)
        h.answer(second, "the schema")
        process.write(INIT, SUCCESS)
        process.end(0)
        done = await ends(h, agent.id, AgentStatus.IDLE)
        assert done.result == result
        assert h.repos.tasks.get(agent.task_id or "").status is TaskStatus.COMPLETED
        assert len(h.run_ends.told) == 1  # type: ignore[union-attr]  # nothing lands again
        [ended] = h.runs_of(agent)
        assert (ended.outcome, ended.left_changes) == ("answered", [])
        assert ended.ended_at is not None
        sessions = {c.session_number for c in h.repos.log_chunks.find_by_agent_id(agent.id)}
        assert sessions == {1, 2}

    run(h, body)


def test_questions_left_unanswered_end_abandoned_and_changes_are_reported(h: Answering) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        asker = h.other_agent()
        answered, ignored = h.ask(asker.id, agent, "one"), h.ask(asker.id, agent, "two")
        await h.sup.answer(agent.id)
        h.answer(answered)
        (Path(agent.worktree_id) / "notes.md").write_text("oops, an edit")
        h.last().write(INIT, SUCCESS)
        h.last().end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        [ended] = h.runs_of(agent)
        assert ended.outcome == "ended with 1 of 2 questions unanswered"
        assert ended.left_changes == ["notes.md"]
        assert (Path(agent.worktree_id) / "notes.md").exists()  # left there
        gone = h.repos.conversations.get(ignored.id)
        assert gone.status is ConversationStatus.ABANDONED
        assert "resumed to answer it and ended without answering" in (gone.abandoned_reason or "")

    run(h, body)


def test_a_crashed_answering_run_leaves_the_agent_idle_and_tells_the_askers(
    h: Answering,
) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        asked = h.ask(h.other_agent().id, agent)
        await h.sup.answer(agent.id)
        h.last().end(7)
        done = await ends(h, agent.id, AgentStatus.IDLE)
        assert done.exit_code == 7
        [ended] = h.runs_of(agent)
        assert (ended.outcome or "").startswith("crashed:")
        reason = h.repos.conversations.get(asked.id).abandoned_reason or ""
        assert "exited with code 7 without a result" in reason

    run(h, body)


def test_a_gone_worktree_is_made_again_on_the_agents_branch_before_resuming(
    h: Answering,
) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        shutil.rmtree(agent.worktree_id)
        h.ask(h.other_agent().id, agent)
        await h.sup.answer(agent.id)
        assert h.worktrees.restored == [(Path(agent.worktree_id), f"cw/auth-rewrite--{agent.name}")]
        assert h.last().spec.cwd == Path(agent.worktree_id)
        hooks = Path(agent.worktree_id) / ".claude" / "settings.local.json"
        assert hooks.exists()  # prepared again like a new worktree

    run(h, body)


def test_who_cannot_be_resumed_to_answer_and_why(h: Answering) -> None:
    async def body() -> None:
        by_hand = h.repos.agents.create(NewAgent(worktree_id="."))
        assert "registered by hand" in (h.sup.cannot_answer(by_hand) or "")
        agent = await h.idle_agent()
        assert h.sup.cannot_answer(agent) is None
        h.missing.add("claude")
        assert "claude CLI is not installed" in (h.sup.cannot_answer(agent) or "")
        h.ask(h.other_agent().id, agent)
        with pytest.raises(PreconditionFailedError, match="cannot be resumed"):
            await h.sup.answer(agent.id)

    run(h, body)


def test_with_every_account_exhausted_the_run_does_not_start(h: Answering) -> None:
    async def body() -> None:
        only = h.account("a@example.com")
        agent = await h.idle_agent()
        h.repos.accounts.update(only.id, {"is_exhausted": True, "exhausted_until": RESETS})
        h.ask(h.other_agent().id, agent)
        assert h.sup.account_wait(h.agent(agent.id)) == RESETS
        with pytest.raises(AccountsExhaustedError) as waits:
            await h.sup.answer(agent.id)
        assert waits.value.until == RESETS
        assert len(h.processes.launched) == 1

    run(h, body)


def test_a_usage_limit_goes_on_answering_with_the_next_account(h: Answering) -> None:
    async def body() -> None:
        first, second = h.account("a@example.com"), h.account("b@example.com")
        agent = await h.idle_agent()
        assert agent.account_id == first.id
        asked = h.ask(h.other_agent().id, agent)
        await h.sup.answer(agent.id)
        h.last().write(INIT, LIMIT, LIMIT_RESULT)
        h.last().end(1)
        await until(lambda: len(h.processes.launched) == 3, "the run on the next account")
        assert h.last().spec.env["CLAUDE_CONFIG_DIR"].endswith(second.id)
        assert f"cw answer {asked.id}" in h.last().prompt
        first_run, second_run = h.runs_of(agent)
        assert "goes on with account b@example.com" in (first_run.outcome or "")
        assert (second_run.session_number, second_run.question_ids) == (3, [asked.id])
        assert h.status(asked) is ConversationStatus.PENDING

    run(h, body)


def test_a_stopped_by_hand_answering_run_stops_the_agent_and_leaves_the_task(
    h: Answering,
) -> None:
    h.run_ends = RecordedRunEnds()

    async def body() -> None:
        agent = await h.idle_agent()
        await until(lambda: len(h.run_ends.told) == 1, "the work to be told")  # type: ignore[union-attr]
        h.ask(h.other_agent().id, agent)
        await h.sup.answer(agent.id)
        stopped = await h.sup.stop(agent.id)
        assert stopped.status is AgentStatus.STOPPED
        assert len(h.run_ends.told) == 1  # type: ignore[union-attr]  # the task is not blocked
        assert h.runs_of(agent)[0].outcome == "stopped"

    run(h, body)


def test_an_answering_run_is_still_one_after_a_restart(h: Answering) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        asked = h.ask(h.other_agent().id, agent)
        await h.sup.answer(agent.id)
        process = h.last()
        await h.sup.close()  # the server stops; the agent goes on
        h.build()
        await h.sup.start()
        assert h.sup.is_running(agent.id)
        h.answer(asked)
        process.write(INIT, SUCCESS)
        process.end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        assert [r.outcome for r in h.runs_of(agent)] == ["answered"]

    run(h, body)


def test_an_answering_run_whose_end_no_server_saw_is_closed_on_start(h: Answering) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        # what a server that died mid-run leaves when the agent is found idle later
        h.repos.answering_runs.start(NewAnsweringRun(agent.id, 2, []))
        await h.sup.start()
        [closed] = h.runs_of(agent)
        assert "no server ran when it ended" in (closed.outcome or "")

    run(h, body)


def test_an_idle_agents_worktree_is_kept_unless_asked(h: Answering) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        assert await h.sup.clean() == []
        with pytest.raises(PreconditionFailedError, match="--idle"):
            await h.sup.clean(agent.id)
        assert h.worktrees.removed == []
        [cleaned] = await h.sup.clean(idle=True)
        assert cleaned.agent_id == agent.id

    run(h, body)


# -- the scheduler ---------------------------------------------------------------------


async def answering_started(h: Answering, agent: Agent, count: int = 1) -> FakeProcess:
    await until(
        lambda: len(h.runs_of(agent)) == count and h.agent(agent.id).status is AgentStatus.RUNNING,
        f"answering run {count} of {agent.name}",
    )
    return h.last()


async def finish(h: Answering, agent: Agent, process: FakeProcess) -> None:
    """End the agent's latest answering run and wait until it is recorded as ended."""
    number = len(h.runs_of(agent)) - 1
    process.write(INIT, SUCCESS)
    process.end(0)
    await until(lambda: h.runs_of(agent)[number].ended_at is not None, "the run to end")


def test_a_question_to_an_idle_agent_resumes_it_once_for_all_waiting_questions(
    h: Answering,
) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        asker = h.other_agent()
        first = h.ask(asker.id, agent, "one")
        second = h.ask(asker.id, agent, "two")  # before the scheduler looks: one run
        await h.start_scheduler()
        process = await answering_started(h, agent)
        assert set(h.runs_of(agent)[0].question_ids) == {first.id, second.id}
        late = h.ask(asker.id, agent, "three")  # while it runs: its hooks deliver it
        await asyncio.sleep(0.05)
        assert len(h.processes.launched) == 2
        for asked in (first, second):
            h.answer(asked)
        await finish(h, agent, process)
        # the question it was never given gets the next run
        process = await answering_started(h, agent, count=2)
        assert h.runs_of(agent)[1].question_ids == [late.id]
        h.answer(late)
        await finish(h, agent, process)
        await asyncio.sleep(0.05)
        assert len(h.processes.launched) == 3

    run(h, body)


def test_an_agent_that_ends_its_work_with_questions_waiting_is_resumed(h: Answering) -> None:
    async def body() -> None:
        await h.start_scheduler()
        agent = await h.spawn()
        asked = h.ask(h.other_agent().id, agent)  # while it works
        await asyncio.sleep(0.05)
        assert len(h.processes.launched) == 1
        h.last().write(INIT, SUCCESS)
        h.last().end(0)
        await answering_started(h, agent)
        assert f"cw answer {asked.id}" in h.last().prompt

    run(h, body)


def test_answering_runs_wait_their_turn(h: Answering) -> None:
    h.max_answering = 1

    async def body() -> None:
        one = await h.idle_agent()
        assert h.task is not None
        h.task = h.repos.tasks.create(NewTask("second", phase_id=h.task.phase_id))
        two = await h.idle_agent()
        asker = h.other_agent()
        await h.start_scheduler()
        h.ask(asker.id, one)
        first = await answering_started(h, one)
        h.ask(asker.id, two)
        await asyncio.sleep(0.05)
        assert h.runs_of(two) == []  # waits for the slot
        await finish(h, one, first)
        await answering_started(h, two)

    run(h, body)


def test_a_run_that_takes_too_long_is_stopped_and_its_askers_hear_why(h: Answering) -> None:
    h.timeout_s = 0.3

    async def body() -> None:
        agent = await h.idle_agent()
        await h.start_scheduler()
        asked = h.ask(h.other_agent().id, agent)
        process = await answering_started(h, agent)
        await until(lambda: h.status(asked) is ConversationStatus.ABANDONED, "the timeout")
        reason = h.repos.conversations.get(asked.id).abandoned_reason or ""
        assert "did not answer within 0.3 s (CW_ANSWER_TIMEOUT_S)" in reason
        assert process.signals  # stopped
        done = await ends(h, agent.id, AgentStatus.IDLE)
        assert done.status is AgentStatus.IDLE  # still askable
        assert h.runs_of(agent)[0].outcome == reason

    run(h, body)


def test_with_no_account_free_the_question_waits_for_one(h: Answering) -> None:
    async def body() -> None:
        only = h.account("a@example.com")
        agent = await h.idle_agent()
        h.repos.accounts.update(only.id, {"is_exhausted": True, "exhausted_until": RESETS})
        scheduler = await h.start_scheduler()
        asked = h.ask(h.other_agent().id, agent)
        await until(lambda: bool(h.sleeps), "the wait for an account")
        assert h.sleeps[-1] == (RESETS - T0).total_seconds()
        notice = scheduler.notice(h.agent(agent.id)) or ""
        assert "waits for an account to answer with, until 2026-11-29T22:00:00.000Z" in notice
        assert h.status(asked) is ConversationStatus.PENDING
        assert len(h.processes.launched) == 1
        h.now = RESETS + timedelta(seconds=1)
        assert h.wake is not None
        h.wake.set()
        await answering_started(h, agent)

    run(h, body)


def test_on_start_idle_agents_with_questions_waiting_are_resumed(h: Answering) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        asked = h.ask(h.other_agent().id, agent)  # no scheduler yet: nobody heard
        await h.start_scheduler()
        await answering_started(h, agent)
        assert f"cw answer {asked.id}" in h.last().prompt

    run(h, body)


def test_an_agent_that_cannot_be_resumed_keeps_its_questions_and_the_asker_is_told(
    h: Answering,
) -> None:
    async def body() -> None:
        assert h.task is not None
        by_hand = h.repos.agents.create(NewAgent(worktree_id=".", task_id=h.task.id))
        scheduler = await h.start_scheduler()
        asked = h.ask(h.other_agent().id, by_hand)
        await asyncio.sleep(0.05)
        assert h.processes.launched == []
        assert h.status(asked) is ConversationStatus.PENDING
        notice = scheduler.notice(h.agent(by_hand.id)) or ""
        assert "is idle and not run by crosswalk (it was registered by hand" in notice
        assert "the answer may take until it runs again" in notice

    run(h, body)


def test_a_resume_that_fails_ends_the_questions_with_the_reason(h: Answering) -> None:
    async def body() -> None:
        agent = await h.idle_agent()
        shutil.rmtree(agent.worktree_id)
        h.worktrees.fail_with = PreconditionFailedError("the branch cw/x is gone")
        await h.start_scheduler()
        asked = h.ask(h.other_agent().id, agent)
        await until(lambda: h.status(asked) is ConversationStatus.ABANDONED, "the refusal")
        reason = h.repos.conversations.get(asked.id).abandoned_reason or ""
        assert reason == (
            f"agent {agent.name} could not be resumed to answer: the branch cw/x is gone"
        )

    run(h, body)
