"""Caps that keep one agent from starving the others, and where their values come from.

Both are settings (``CW_*`` variables ``ServerSettings`` reads when the server starts,
docs/settings.md), explained in docs/security.md:

- ``CW_MAX_PENDING_QUESTIONS`` (default 100): unanswered questions one agent may have
  open to one target (another agent, or the person). The next ask is refused with
  TOO_MANY_REQUESTS naming the cap.
- ``CW_PAGE_SIZE`` (default 50): the most questions one ``conversation.listen`` or
  ``conversation.pending`` call returns (and one read of ``onQuestion``); ask again
  with ``afterId`` set to the last id for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_PENDING_QUESTIONS = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Limits:
    max_pending_questions: int = DEFAULT_MAX_PENDING_QUESTIONS
    page_size: int = DEFAULT_PAGE_SIZE
