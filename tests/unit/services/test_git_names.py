"""Branch names and project URLs crosswalk gives git (crosswalk.domain.git_names);
tests/integration/runner/test_adapters.py checks the branch rule against git itself."""

from __future__ import annotations

import pytest

from crosswalk.domain.git_names import branch_name_problem, project_url_problem

VALID_BRANCHES = ["main", "cw/auth-rewrite", "feature/x--brave-otter", "a-", "@", "x@y",
                  "HEAD/x", "x/HEAD", "é", "v1.2", "a.b/c_d", "refs/heads/x"]  # fmt: skip
INVALID_BRANCHES = ["", "-x", "--orphan", "-", "HEAD", "a..b", "a.lock", "a/b.lock/c", ".a",
                    "a/.b", "a/", "/a", "a//b", "a.", "a@{b", "@{-1}", "a b", "a~", "a^",
                    "a:", "a?", "a*", "a[", "a\\b", "a\x01", "a\x7f", "x/.lock"]  # fmt: skip


@pytest.mark.parametrize("name", VALID_BRANCHES)
def test_a_valid_branch_name(name: str) -> None:
    assert branch_name_problem(name) is None


@pytest.mark.parametrize("name", INVALID_BRANCHES)
def test_an_invalid_branch_name_says_why(name: str) -> None:
    problem = branch_name_problem(name)
    assert problem


@pytest.mark.parametrize(
    "url",
    ["-h", "--upload-pack=touch /tmp/pwned", "ext::sh -c touch% /tmp/pwned", "EXT::sh"],
)
def test_a_url_git_would_read_as_an_option_or_a_command_is_refused(url: str) -> None:
    assert project_url_problem(url)


@pytest.mark.parametrize(
    "url",
    ["https://github.com/acme/api.git", "git@github.com:acme/api.git", "/srv/git/api",
     "file:///srv/git/api", "ssh://host/x", "./relative-ext::x"],
)  # fmt: skip
def test_ordinary_urls_and_paths_are_accepted(url: str) -> None:
    assert project_url_problem(url) is None
