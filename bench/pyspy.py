"""A py-spy profile of a running process, summed up as text: the functions that took the
most samples on their own (self) and with what they called (cumulative).

    .venv/bin/python -m bench.pyspy RAW [--top 40]    # summarize a `py-spy record --format raw`

`record` samples process `pid` for `seconds` while a benchmark loads it; py-spy comes from
the package index (`pip install py-spy`) and needs to be allowed to read the process.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def record(pid: int, seconds: float, raw: Path) -> subprocess.Popen[bytes] | None:
    """Starts py-spy on `pid`; None when py-spy is not installed."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    return subprocess.Popen(
        [
            *(spy, "record", "--pid", str(pid), "--duration", str(int(seconds))),
            *("--rate", "250", "--format", "raw", "--nonblocking", "--output", str(raw)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _frame(text: str) -> str:
    # "name (path/to/module.py:123)" -> "name (module.py)": a function, not a line.
    name, _, where = text.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    short = "/".join(path.split("/")[-2:])
    return f"{name} ({short})" if path else name


def _stacks(raw: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for row in raw.read_text(errors="replace").splitlines():
        stack, _, count = row.rpartition(" ")
        frames = [_frame(part) for part in stack.split(";") if part]
        if count.isdigit() and frames:
            stacks.append((frames, int(count)))
    return stacks


def _top(stacks: list[tuple[list[str], int]], top: int, title: str) -> list[str]:
    own: Counter[str] = Counter()
    within: Counter[str] = Counter()
    total = sum(samples for _, samples in stacks)
    for frames, samples in stacks:
        own[frames[-1]] += samples
        for name in set(frames):
            within[name] += samples
    lines = [f"{title}: {total} samples", ""]
    for kind, counts in (("self", own), ("cumulative", within)):
        lines.append(f"top {top} by {kind} samples:")
        for name, samples in counts.most_common(top):
            lines.append(f"  {100 * samples / max(total, 1):5.1f}%  {name}")
        lines.append("")
    return lines


def summary(raw: Path, top: int = 40) -> str:
    """Every thread, then the event loop's thread alone: the stacks that do not begin in
    `Thread._bootstrap` (code run in a greenlet is a stack of its own, in the loop's
    thread). A function that calls C code (SQLite, a socket write) is charged its time."""
    stacks = _stacks(raw)
    loop = [(frames, n) for frames, n in stacks if not frames[0].startswith("Thread._bootstrap ")]
    lines = ["py-spy at 250 Hz of the server process, idle time excluded", ""]
    lines += _top(stacks, top // 2, "every thread")
    lines += _top(loop, top, "the event loop's thread")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    print(summary(args.raw, args.top))


if __name__ == "__main__":
    main()
