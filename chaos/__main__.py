"""`python -m chaos --short` (CI, a few minutes) or `--long` (by hand): start real towpath
processes, break them, and print one table of every figure beside its target. Exits 1 if
any target is missed (the work directory with every process's log is then kept)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from chaos import abuse, dags, duplicates, fuzz, load, schedules, sqlite_kills, stale, streams
from chaos.figures import Figure, measured, said, table
from chaos.postgres import Postgres

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SCENARIOS: dict[str, Callable[[Postgres, Path, bool], Awaitable[list[Figure]]]] = {
    "dags": dags.scenario,
    "stale": stale.scenario,
    "sqlite": sqlite_kills.scenario,
    "duplicates": duplicates.scenario,
    "streams": streams.scenario,
    "schedules": schedules.scenario,
    "abuse": abuse.scenario,
    "fuzz": fuzz.scenario,
    "load": load.scenario,
}


async def main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    pg = Postgres(args.postgres)
    await asyncio.to_thread(pg.start)
    figures: list[Figure] = []
    began_all = time.monotonic()
    try:
        for name in args.only or list(SCENARIOS):
            began = time.monotonic()
            scenario_dir = work / name
            scenario_dir.mkdir()
            label = f"{list(SCENARIOS).index(name) + 1} {name}"
            try:
                found = await SCENARIOS[name](pg, scenario_dir, args.long)
                figures += found
                label = found[0].scenario if found else label
            except Exception:  # noqa: BLE001 - a scenario that breaks is a missed target
                traceback.print_exc()
                figures.append(said(label, "scenario ran to its end", "no", "yes", ok=False))
            took = time.monotonic() - began
            figures.append(measured(label, "wall time", round(took), " s"))
            print(f"{name}: {took:.0f} s", file=sys.stderr, flush=True)
    finally:
        await asyncio.to_thread(pg.stop)
    print(table(figures))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nwall time {time.monotonic() - began_all:.0f} s on {os.cpu_count()} cores;"
        f" load average at the end {load}"
    )
    missed = [f for f in figures if not f.ok]
    if missed:
        print(f"\n{len(missed)} targets missed; logs in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--short", action="store_true", help="scaled down, for CI (a few minutes)")
    size.add_argument("--long", action="store_true", help="the full figures (an hour or so)")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="run only these")
    parser.add_argument(
        "--postgres",
        help="use this server (restarted with pg_ctlcluster) instead of a private cluster",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
