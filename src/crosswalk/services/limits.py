"""Caps that keep one agent from starving the others, and where their values come from.

Both are settings (environment variables read when the server starts), documented in
docs/security.md:

- ``CW_MAX_PENDING_QUESTIONS`` (default 100): unanswered questions one agent may have
  open to one target (another agent, or the person). The next ask is refused with
  TOO_MANY_REQUESTS naming the cap.
- ``CW_PAGE_SIZE`` (default 50): the most questions one ``conversation.listen`` or
  ``conversation.pending`` call returns (and one read of ``onQuestion``); ask again
  with ``afterId`` set to the last id for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crosswalk.domain.errors import InvalidSettingError

DEFAULT_MAX_PENDING_QUESTIONS = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Limits:
    max_pending_questions: int = DEFAULT_MAX_PENDING_QUESTIONS
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """The limits the environment sets; a value that is not a positive integer is an
        ``InvalidSettingError`` naming the variable."""
        return cls(
            max_pending_questions=_positive(
                environ, "CW_MAX_PENDING_QUESTIONS", DEFAULT_MAX_PENDING_QUESTIONS
            ),
            page_size=_positive(environ, "CW_PAGE_SIZE", DEFAULT_PAGE_SIZE),
        )


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or value > 100_000:
        raise InvalidSettingError(
            name, f"{name}={raw!r} is not a whole number from 1 to 100000; fix or unset it"
        )
    return value
