"""What each page's live stream counts as shown, decided from the event and the page's
scope alone (no I/O here; the stream reads the scope)."""

from __future__ import annotations

from crosswalk.domain.enums import AgentStatus, TaskStatus
from crosswalk.domain.events import (
    Action,
    AgentStatusChanged,
    EntityChanged,
    LogChunkAppended,
    QuestionAsked,
    TaskStatusChanged,
    UserQuestionAsked,
)
from crosswalk.server.web import watch
from crosswalk.server.web.watch import Scope, Verdict

SHOWN, NOT_SHOWN, MAYBE = Verdict.SHOWN, Verdict.NOT_SHOWN, Verdict.MAYBE


def test_the_agents_page_counts_agents_and_new_sessions_not_log_lines() -> None:
    page = watch.agents()
    scope = Scope(keys={"task:t1"}, sessions={"a1": 2})

    assert page.verdict(AgentStatusChanged("a9", AgentStatus.IDLE), scope) is SHOWN
    assert page.verdict(LogChunkAppended("a1", "c1", 2), scope) is NOT_SHOWN
    assert page.verdict(LogChunkAppended("a1", "c2", 3), scope) is SHOWN
    assert scope.sessions["a1"] == 3  # told once
    assert page.verdict(LogChunkAppended("a1", "c3", 3), scope) is NOT_SHOWN
    assert page.verdict(LogChunkAppended("new", "c4", 1), scope) is SHOWN  # a new agent's first
    assert page.verdict(TaskStatusChanged("t1", TaskStatus.COMPLETED), scope) is SHOWN
    assert page.verdict(TaskStatusChanged("t2", TaskStatus.COMPLETED), scope) is NOT_SHOWN
    assert page.verdict(QuestionAsked("c", "a1", "a2"), scope) is NOT_SHOWN
    assert page.verdict(UserQuestionAsked("m", "a1"), scope) is SHOWN  # the header's count


def test_an_initiative_page_counts_its_rows_and_reads_its_scope_for_newcomers() -> None:
    page = watch.initiative("i1")
    scope = Scope(keys={"initiative:i1", "task:t1", "agent:a1"})

    assert page.verdict(TaskStatusChanged("t1", TaskStatus.IN_PROGRESS), scope) is SHOWN
    assert page.verdict(TaskStatusChanged("t2", TaskStatus.IN_PROGRESS), scope) is NOT_SHOWN
    assert page.verdict(LogChunkAppended("a1", "c1", 5), scope) is NOT_SHOWN
    assert page.verdict(AgentStatusChanged("a2", AgentStatus.IDLE), scope) is NOT_SHOWN
    assert page.verdict(EntityChanged("task", "t3", Action.CREATED), scope) is MAYBE
    assert page.verdict(EntityChanged("agent", "a2", Action.UPDATED), scope) is MAYBE
    assert page.verdict(EntityChanged("task", "t3", Action.DELETED), scope) is NOT_SHOWN
    assert page.verdict(EntityChanged("taskDependency", "d", Action.CREATED), scope) is SHOWN
    assert page.may_move([EntityChanged("agent", "a1", Action.UPDATED)])
    assert not page.may_move([TaskStatusChanged("t1", TaskStatus.COMPLETED)])


def test_an_agent_page_counts_its_log_and_conversations_and_the_inbox_new_approvals() -> None:
    page = watch.agent("a1")
    scope = Scope(keys={"agent:a1", "logs:a1", "conversationOf:a1"})

    assert page.verdict(LogChunkAppended("a1", "c1"), scope) is SHOWN
    assert page.verdict(LogChunkAppended("a2", "c2"), scope) is NOT_SHOWN
    assert page.verdict(QuestionAsked("c", "a2", "a1"), scope) is SHOWN
    assert page.verdict(QuestionAsked("c", "a2", "a3"), scope) is NOT_SHOWN
    waiting = TaskStatusChanged("t9", TaskStatus.PENDING_APPROVAL)
    assert watch.inbox().verdict(waiting, Scope()) is MAYBE
    assert watch.inbox().verdict(TaskStatusChanged("t9", TaskStatus.BLOCKED), Scope()) is NOT_SHOWN


def test_a_task_page_counts_a_new_session_of_its_own_agents_only() -> None:
    page = watch.task("t1")
    scope = Scope(keys={"task:t1", "agent:a1", "agent:a2"}, sessions={"a1": 1})

    assert page.verdict(LogChunkAppended("a1", "c1", 1), scope) is NOT_SHOWN
    assert page.verdict(LogChunkAppended("a1", "c2", 2), scope) is SHOWN
    assert page.verdict(LogChunkAppended("a2", "c3", 1), scope) is SHOWN  # joined since
    assert page.verdict(LogChunkAppended("a3", "c4", 9), scope) is NOT_SHOWN
