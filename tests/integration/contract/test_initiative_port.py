"""The ``InitiativeRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import InitiativeStatus
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import NewInitiative


def test_create_derives_a_free_branch_from_the_name(ports: Ports) -> None:
    initiatives = ports.initiatives
    first = initiatives.create(NewInitiative("Auth Flow"))
    second = initiatives.create(NewInitiative("auth flow"))
    chosen = initiatives.create(NewInitiative("Billing", branch="feature/billing"))

    assert (first.branch, second.branch, chosen.branch) == (
        "cw/auth-flow",
        "cw/auth-flow-2",
        "feature/billing",
    )
    assert first.status is InitiativeStatus.ACTIVE and first.merge_requires_approval
    with pytest.raises(ConflictError, match="feature/billing"):
        initiatives.create(NewInitiative("Other", branch="feature/billing"))
    with pytest.raises(ConflictError, match="cw/auth-flow"):
        initiatives.update(chosen.id, {"branch": "cw/auth-flow"})
    assert initiatives.get(first.id) == first
    with pytest.raises(NotFoundError, match="initiative 'nope' not found"):
        initiatives.get("nope")


def test_find_update_list_and_delete(ports: Ports) -> None:
    initiatives = ports.initiatives
    made = [initiatives.create(NewInitiative(f"i{n}")) for n in range(3)]
    done = initiatives.update(made[1].id, {"status": InitiativeStatus.COMPLETED})

    assert done.status is InitiativeStatus.COMPLETED and done.updated_at > made[1].updated_at
    assert initiatives.find_all() == [made[0], done, made[2]]
    assert initiatives.find_by_status(InitiativeStatus.COMPLETED) == [done]
    first = initiatives.list_page(limit=2)
    rest = initiatives.list_page(limit=2, cursor=first.next_cursor)
    assert [i.name for i in first.items + rest.items] == ["i0", "i1", "i2"]
    assert rest.next_cursor is None
    assert initiatives.list_page(status=InitiativeStatus.ACTIVE).items == [made[0], made[2]]

    initiatives.delete(made[0].id)
    assert initiatives.find_by_id(made[0].id) is None
    with pytest.raises(NotFoundError):
        initiatives.delete(made[0].id)


def test_find_by_ref_finds_by_id_name_or_id_prefix(ports: Ports) -> None:
    from crosswalk.domain.rows import NewInitiative

    auth = ports.initiatives.create(NewInitiative("Auth rewrite"))
    ports.initiatives.create(NewInitiative("Billing"))
    assert ports.initiatives.find_by_ref(auth.id, 5) == [auth]
    assert ports.initiatives.find_by_ref("Auth rewrite", 5) == [auth]
    assert ports.initiatives.find_by_ref(auth.id[:10], 5) == [auth]
    assert ports.initiatives.find_by_ref("auth rewrite", 5) == []  # names match exactly
