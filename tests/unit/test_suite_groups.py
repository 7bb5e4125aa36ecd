"""The suite's own promise to the tests that share a process (a module's server, the Spark session, the
schema fuzz's examples): under `make test` (pytest-xdist, --dist loadgroup) an xdist_group mark keeps a
group's tests in one worker. pytest 9.2 broke that silently (pytest-dev/pytest-xdist#1386): each group's
tests were spread over both workers, and its server or Spark session started in each."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("suite-groups")
def test_a_grouped_test_carries_its_group_to_the_scheduler(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("run without pytest-xdist's --dist loadgroup: no groups to keep")
    # xdist's scheduler reads the group from the id's suffix, which its worker adds at collection
    assert request.node.nodeid.endswith("@suite-groups"), request.node.nodeid
