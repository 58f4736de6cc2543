"""Results: one :class:`Section` per benchmark, printed as tables and saved as Markdown + JSON.

A section holds its rows (plain dicts, the JSON form) and the columns to show, the
targets it checks (:class:`Target`: measured value, threshold, pass or miss, and the
ratio between them) and notes that say how to read it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Target:
    """``measured`` against ``threshold``: at least (``higher_is_better``) or below it."""

    name: str
    measured: float
    threshold: float
    unit: str
    higher_is_better: bool

    @property
    def passed(self) -> bool:
        if math.isnan(self.measured):
            return False
        if self.higher_is_better:
            return self.measured >= self.threshold
        return self.measured < self.threshold

    @property
    def headroom(self) -> float:
        """How many times better than the target (>= 1 when met)."""
        if math.isnan(self.measured) or self.measured <= 0:
            return float("nan") if math.isnan(self.measured) else math.inf
        ratio = self.measured / self.threshold
        return ratio if self.higher_is_better else 1 / ratio

    def describe(self) -> str:
        relation = ">=" if self.higher_is_better else "<"
        return f"{self.name} {relation} {_num(self.threshold)} {self.unit}"

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "target": self.describe(),
            "passed": self.passed,
            "headroom": _finite(self.headroom),
        }


@dataclass
class Column:
    key: str
    title: str
    digits: int = 2


@dataclass
class Section:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> str:
        """The rows as a Markdown table (also readable as plain text)."""
        header = [column.title for column in self.columns]
        body = [
            [_cell(row.get(column.key), column.digits) for column in self.columns]
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        lines = [_line(header, widths), _line(["-" * w for w in widths], widths)]
        lines += [_line(cells, widths) for cells in body]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rows": [{key: _finite(value) for key, value in row.items()} for row in self.rows],
            "targets": [target.to_json() for target in self.targets],
            "notes": self.notes,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
        }


def _line(cells: list[str], widths: list[int]) -> str:
    return (
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        + " |"
    )


def _num(value: float, digits: int = 2) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _num(value, digits)
    return str(value)


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- the run as a whole ---------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": _sqlite_version(),
    }


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def git_commit() -> str:
    """The checked-out commit, with ``-dirty`` when the working tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


@dataclass
class Report:
    sections: list[Section]
    mode: str
    command: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    meta: dict[str, Any] = field(default_factory=dict)
    # 1-minute load average when the run started and when it ended: other work on the
    # machine competes with the server and the load generator
    load: tuple[float, float] = (math.nan, math.nan)

    def __post_init__(self) -> None:
        self.meta = {
            "date": self.started.isoformat(timespec="seconds"),
            "commit": git_commit(),
            "mode": self.mode,
            "command": self.command,
            "machine": machine_info(),
            "load_average": {"start": _finite(self.load[0]), "end": _finite(self.load[1])},
        }

    @property
    def targets(self) -> list[Target]:
        return [target for section in self.sections for target in section.targets]

    @property
    def failed(self) -> bool:
        return any(section.errors for section in self.sections)

    def summary(self) -> str:
        """The targets as a table: measured, target, pass or miss, headroom."""
        lines = [
            "| target | measured | result | headroom |",
            "| --- | --- | --- | --- |",
        ]
        for target in self.targets:
            lines.append(
                f"| {target.describe()} | {_num(target.measured)} {target.unit} | "
                f"{'PASS' if target.passed else 'MISS'} | {_num(target.headroom)}x |"
            )
        return "\n".join(lines)

    def markdown(self) -> str:
        machine = self.meta["machine"]
        out = [
            "# crosswalk benchmarks",
            "",
            f"- date: {self.meta['date']}",
            f"- commit: {self.meta['commit']}",
            f"- command: `{self.command}` ({self.mode})",
            f"- machine: {machine['cpu']}, {machine['cores']} cores, "
            f"{machine['memory_gb']} GiB, {machine['os']}",
            f"- python {machine['python']}, sqlite {machine['sqlite']}",
            f"- load average (1 min) at start {_num(self.load[0])}, at end "
            f"{_num(self.load[1])}, on {machine['cores']} cores",
            "",
            "## Targets",
            "",
            self.summary(),
        ]
        for section in self.sections:
            out += ["", f"## {section.title}", "", section.table()]
            if section.errors:
                out += ["", *(f"**error:** {error}" for error in section.errors)]
            if section.notes:
                out += ["", *(f"- {note}" for note in section.notes)]
        return "\n".join(out) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "targets": [target.to_json() for target in self.targets],
            "benchmarks": {section.name: section.to_json() for section in self.sections},
        }

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, data = directory / "latest.md", directory / "latest.json"
        markdown.write_text(self.markdown())
        data.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return markdown, data


def print_section(section: Section) -> None:
    """One finished benchmark, as soon as it is done (the run takes minutes)."""
    print(f"\n## {section.title}  ({section.seconds:.1f} s)\n", flush=True)
    print(section.table())
    for error in section.errors:
        print(f"error: {error}")
    for target in section.targets:
        verdict = "PASS" if target.passed else "MISS"
        print(f"{verdict}  {target.describe()}: {_num(target.measured)} {target.unit}")
    sys.stdout.flush()
