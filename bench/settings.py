"""How a run is configured: full or ``--quick``, where scratch files go, load processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.postgres import BenchPostgres


@dataclass(frozen=True)
class Settings:
    quick: bool
    scratch: Path  # a temporary directory, removed after the run
    processes: int = 1  # load-generator processes for the HTTP benchmarks
    profile_dir: Path | None = None  # profile the server under pyinstrument, reports here
    postgres: BenchPostgres = field(default_factory=BenchPostgres)  # the PostgreSQL column
    kinds: tuple[str, ...] = ()  # the conversation benchmark's target kinds (all if empty)

    def pick(self, full: float, quick: float) -> float:
        return quick if self.quick else full

    def count(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def workdir(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path
