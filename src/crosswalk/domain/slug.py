"""Slugs for git branch names (``cw/<slug>``)."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG_LENGTH = 48
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str, *, max_length: int = MAX_SLUG_LENGTH) -> str:
    """Lowercase ASCII words joined by ``-``: ``"User Auth!"`` -> ``"user-auth"``.

    Only ``[a-z0-9-]`` survives, which is always a valid git ref component (no
    ``..``, ``@{``, spaces or a trailing ``.lock``). Accents are folded to their
    base letters; anything else without an ASCII form is dropped, so the result
    may be empty and callers pick their own fallback. Long names are cut at
    ``max_length`` without leaving a trailing hyphen.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")
    return slug[:max_length].rstrip("-")
