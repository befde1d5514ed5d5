"""The suite's start order (tests/conftest.py `start_order`): the longest files first, each file's tests together."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import LONG_FIRST, start_order


@dataclass
class Item:
    nodeid: str
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name == "slow" and self.slow else None


def test_long_walks_then_files_with_slow_tests_then_the_rest_each_file_in_its_order():
    items = [
        Item("tests/features/test_data.py::a"),
        Item("tests/monitoring/test_life.py::quick"),
        Item("tests/monitoring/test_life.py::long", slow=True),
        Item("tests/features/test_data.py::b"),
        Item(f"{LONG_FIRST[1]}::walk", slow=True),
        Item(f"{LONG_FIRST[0]}::nav"),
        Item(f"{LONG_FIRST[0]}::walk[page]", slow=True),
    ]
    ordered = [item.nodeid for item in start_order(items)]
    assert ordered == [
        f"{LONG_FIRST[0]}::nav",
        f"{LONG_FIRST[0]}::walk[page]",
        f"{LONG_FIRST[1]}::walk",
        "tests/monitoring/test_life.py::quick",
        "tests/monitoring/test_life.py::long",
        "tests/features/test_data.py::a",
        "tests/features/test_data.py::b",
    ]


def test_each_shared_group_is_one_unit_of_work_for_pytest_xdist(request):
    """The scheduler groups by node id (pytest-xdist's own `@group` suffix is lost under pytest 9.2)."""
    from tests.conftest import SHARED_GROUPS, pytest_xdist_make_scheduler

    class LoadGroupConfig:  # `-n 2 --dist loadgroup`, whatever this run's options are
        option = request.config.option

        def getvalue(self, name: str) -> object:
            return {"dist": "loadgroup", "tx": ["popen"] * 2}.get(name) or request.config.getvalue(name)

    scheduler = pytest_xdist_make_scheduler(LoadGroupConfig(), None)
    team = [f"{SHARED_GROUPS[3][0]}test_team_server.py::a", "tests/pipelines/commands/test_server.py::b[x]"]
    assert {scheduler._split_scope(nodeid) for nodeid in team} == {"postgres-server"}
    assert scheduler._split_scope("tests/test_readme.py::walk") == "fixed-ports"
    assert (
        scheduler._split_scope("tests/pipelines/commands/test_check.py::c")
        == "tests/pipelines/commands/test_check.py::c"
    )
