"""``python -m bench [--quick] [--only NAME[,NAME...]]``: run the benchmarks, print the
tables, write ``bench/results/latest.md`` and ``latest.json``.

Exit status: 0 when every benchmark ran (targets may be missed: the report says
which), 1 when one failed to run or saw wrong answers, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    answering,
    ceiling,
    cli,
    conversations,
    dbfloor,
    fleet,
    floor,
    layers,
    scale,
    wakeup,
)
from bench.report import Report, Section, print_section
from bench.settings import Settings

BENCHMARKS: dict[str, Callable[[Settings], Section | list[Section]]] = {
    "ceiling": ceiling.run,
    "conversations": conversations.run,
    "wakeup": wakeup.run,
    "cli": cli.run,
    "dbfloor": dbfloor.run,
    "layers": layers.run,
    "scale": scale.run,
    "answering": answering.run,
    "fleet": fleet.run,
}
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about a minute)")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"where to write latest.md/.json ({RESULTS})"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="load-generator processes for the conversation benchmark (default 1)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the conversations benchmark's server under pyinstrument; report into DIR",
    )
    parser.add_argument(
        "--kinds",
        metavar="KIND[,KIND]",
        help=f"the conversation benchmark's target kinds: {', '.join(conversations.KINDS)}",
    )
    args = parser.parse_args(argv)
    args.kinds = tuple(args.kinds.split(",")) if args.kinds else ()
    wrong = [kind for kind in args.kinds if kind not in conversations.KINDS]
    if wrong:
        parser.error(f"unknown kind {wrong[0]!r}; choose from {', '.join(conversations.KINDS)}")
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    args.names = names
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    sections: list[Section] = []
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="crosswalk-bench-") as scratch:
        settings = Settings(
            quick=args.quick,
            scratch=Path(scratch),
            processes=args.processes,
            profile_dir=args.profile.resolve() if args.profile else None,
            kinds=args.kinds,
        )
        if settings.profile_dir:
            settings.profile_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in args.names:
                started = time.perf_counter()
                try:
                    ran = BENCHMARKS[name](settings)
                    done = ran if isinstance(ran, list) else [ran]
                except Exception as exc:
                    done = [Section(name, name, [])]
                    done[0].errors.append(f"{type(exc).__name__}: {exc}")
                    traceback.print_exc()
                for section in done:
                    section.seconds = (time.perf_counter() - started) / len(done)
                    sections.append(section)
                    print_section(section)
        finally:
            settings.postgres.stop()
    derived = floor.derive(sections)
    if derived is not None:
        sections.append(derived)
        print_section(derived)
    report = Report(
        sections,
        mode="quick" if args.quick else "full",
        command=command,
        load=(load_at_start, os.getloadavg()[0]),
    )
    markdown, data = report.write(args.out)
    print("\n## Targets\n")
    print(report.summary())
    print(f"\nwritten: {markdown}, {data}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
