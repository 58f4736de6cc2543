"""The benchmark machinery works: ``python -m bench --quick`` runs every benchmark against
a real server and writes a report of the expected shape.

Only shape and correctness are asserted, never speed: whether a target is met
depends on the machine, and is the report's business.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.__main__ import BENCHMARKS
from bench.cli import MCP_COLD_LABEL, MCP_LABEL

REPO_ROOT = Path(__file__).resolve().parents[3]

# The whole --quick run happens in the first test's fixture: two minutes on an idle machine,
# five on a loaded one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(450)]


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    return done, out


def test_quick_run_exits_cleanly_and_prints_the_targets(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = quick_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "## Targets" in done.stdout
    for name in (
        "Conversations",
        "Wake-up latency",
        "CLI wall time",
        "Database floor",
        "Layers",
        "Scale",
        "What the 10x target leaves",
        "Fleet",
        "Several servers on one PostgreSQL",
    ):
        assert name in done.stdout


def test_the_json_report_has_every_benchmark_target_and_machine_fact(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    report: dict[str, Any] = json.loads((out / "latest.json").read_text())

    assert set(report) == {"meta", "targets", "benchmarks"}
    assert {"date", "commit", "mode", "command", "machine"} <= set(report["meta"])
    assert report["meta"]["mode"] == "quick"
    assert {"cpu", "cores", "python", "sqlite"} <= set(report["meta"]["machine"])
    assert set(report["benchmarks"]) == {*BENCHMARKS, "second_client", "floor", "servers"}
    for name, section in report["benchmarks"].items():
        assert section["errors"] == [], (name, section["errors"])
        assert section["rows"], name
    for target in report["targets"]:
        assert {"name", "measured", "threshold", "unit", "passed", "headroom", "target"} <= set(
            target
        )
        assert isinstance(target["passed"], bool)
        assert target["measured"] is not None and math.isfinite(target["measured"])


def test_the_measurements_are_real(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    benchmarks = json.loads((out / "latest.json").read_text())["benchmarks"]

    rows = benchmarks["conversations"]["rows"]
    conversations = {(row["database"], row["kind"], row["pairs"]): row for row in rows}
    assert set(conversations) == {
        (db, kind, pairs)
        for db in ("sqlite", "postgresql")
        for kind in ("agent-id", "agent-name", "task", "phase", "file")
        for pairs in (1, 20, 100)
    }
    assert all(row["errors"] == 0 for row in conversations.values())
    # A quick run's window is short: on a loaded machine PostgreSQL's 100 pairs may not
    # finish a conversation inside it, so only the smaller levels must count some.
    for (db, _kind, pairs), row in conversations.items():
        if pairs < 100 or db == "sqlite":
            assert row["rate"] > 0, row
        if db == "sqlite":
            assert 0 < row["health_us_per_req"] < row["server_us_per_op"], row
    (second,) = benchmarks["second_client"]["rows"]
    assert second["kind"] == "task" and second["errors"] == 0 and second["trpc_rate"] > 0
    # the bench client paced to @trpc/client's rate ran too, near that rate
    assert 0.5 * second["trpc_rate"] < second["paced_rate"] < 1.5 * second["trpc_rate"]
    assert second["trpc_server_us"] > 0
    wakeups = benchmarks["wakeup"]["rows"]
    assert all(row["samples"] > 0 for row in wakeups)
    assert {row["database"] for row in wakeups} == {"sqlite", "postgresql"}
    assert any("via server B" in row["case"] for row in wakeups)
    cli = {row["command"]: row for row in benchmarks["cli"]["rows"]}
    cold = cli.pop(MCP_COLD_LABEL)  # timed once: the server's first /mcp request
    assert (cold["runs"], cold["median_ms"] > 0) == (1, True)
    assert [row["runs"] for row in cli.values()] == [5] * 7
    assert cli[MCP_LABEL]["cpu_ms"] > 0  # cw mcp answered initialize in every run
    assert cli["python -c pass"]["over_python_ms"] == 0
    hook_rows = [name for name in cli if name.startswith("cw hook claude PostToolUse")]
    assert len(hook_rows) == 2
    assert all(cli[name]["cpu_ms"] > 0 for name in cli)
    assert all(row["uses_index"] for row in benchmarks["scale"]["rows"])
    assert (
        "USING INDEX ix_conversations_to_agent_id_status" in benchmarks["scale"]["rows"][0]["plan"]
    )
    inside_sqlite, services, app, parked, health = benchmarks["layers"]["rows"]
    assert 0 < health["conversation"] < services["conversation"] < app["conversation"]
    assert 0 < inside_sqlite["conversation"] < services["conversation"]
    assert parked["conversation"] > 0 and health["vs_health"] == 1
    # each layer's steps add up to its conversation
    for layer in (inside_sqlite, services, app):
        steps = sum(layer[step] for step in ("ask", "listen", "answer", "waitForAnswer"))
        assert math.isclose(steps, layer["conversation"], rel_tol=1e-6), layer
    # the floor is derived from the same run's figures
    floors = {row["pairs"]: row for row in benchmarks["floor"]["rows"]}
    assert set(floors) == {1, 20, 100}
    for pairs, floor in floors.items():
        level = [row for row in rows if row["database"] == "sqlite" and row["pairs"] == pairs]
        assert floor["health_us"] == level[0]["health_us_per_req"]
        assert floor["sqlite_us"] == inside_sqlite["conversation"]
        assert math.isclose(floor["floor_us"], 4 * floor["health_us"] + floor["sqlite_us"])
        assert floor["measured_us"] == min(row["server_us_per_op"] for row in level)
        assert floor["measured_us"] > floor["floor_us"]
    fleet = {row["agents"]: row for row in benchmarks["fleet"]["rows"]}
    assert set(fleet) == {0, 2}
    assert fleet[0]["lines_per_s"] == 0 and fleet[2]["lines_per_s"] > 0
    assert fleet[2]["fleet_cpu_pct"] > 0 and fleet[2]["rss_mb"] > 0
    assert all(row["rate"] > 0 and row["errors"] == 0 for row in fleet.values())
    assert all(
        row["agents_page_ms"] > 0 and row["initiative_page_ms"] > 0 for row in fleet.values()
    )
    deployments = {row["servers"]: row for row in benchmarks["servers"]["rows"]}
    assert set(deployments) == {1, 2}
    assert all(row["rate"] > 0 and row["cores"] > 0 for row in deployments.values())
    markdown = (out / "latest.md").read_text()
    assert "## Targets" in markdown
    assert "| target | measured | result | headroom |" in markdown
