"""Reading ``git diff --unified=0`` into the files a piece of work changed."""

from __future__ import annotations

from crosswalk.dispatch.worktree_diff import parse_diff
from crosswalk.domain.rows import PathChange

DIFF = """\
diff --git a/src/app.py b/src/app.py
index de98044..4f213f7 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1 +1 @@
-a
+A
@@ -10,0 +11,3 @@ def f():
+x
+y
+z
@@ -14 +17,0 @@
-gone
diff --git a/new file.txt b/new file.txt
new file mode 100644
index 0000000..3e75765
--- /dev/null
+++ b/new file.txt\t
@@ -0,0 +1,2 @@
+one
+two
diff --git a/old.py b/old.py
deleted file mode 100644
index 3e75765..0000000
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-gone
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..1111111
Binary files /dev/null and b/logo.png differ
diff --git "a/caf\\303\\251 \\"q\\".md" "b/caf\\303\\251 \\"q\\".md"
index 1..2 100644
--- "a/caf\\303\\251 \\"q\\".md"
+++ "b/caf\\303\\251 \\"q\\".md"
@@ -3,2 +3,2 @@
-a
-b
+c
+d
"""


def test_each_file_with_the_lines_its_change_covers() -> None:
    assert parse_diff(DIFF) == [
        PathChange("src/app.py", ((1, 1), (11, 13), (17, 17))),
        PathChange("new file.txt", ((1, 2),)),
        PathChange("old.py", ()),  # deleted: the whole file
        PathChange("logo.png", ()),  # binary: the whole file
        PathChange('café "q".md', ((3, 4),)),
    ]


def test_adjacent_hunks_merge_and_an_empty_diff_is_no_change() -> None:
    text = "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n@@ -2 +2,2 @@\n@@ -9 +9 @@\n"
    assert parse_diff(text) == [PathChange("a", ((1, 3), (9, 9)))]
    assert parse_diff("") == []
