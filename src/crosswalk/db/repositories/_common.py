"""Shapes shared by every repository port."""

from __future__ import annotations

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# What a delete took along: table name -> rows removed by ON DELETE CASCADE, and
# "<table>Detached" -> rows whose reference was nulled by ON DELETE SET NULL.
Removal = dict[str, int]
