"""A run's input and context, decoded once per run rather than at every transition.

They never change in place once the run starts (a retry from a step writes new ones,
whole), yet every transition of the run loads its row: with a large input, decoding it
again cost each step more than the step's own writes. The decoded documents are shared
between transitions: the engine reads them and never changes them in place.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

# Smaller documents decode faster than a lookup pays for.
CACHED_FROM_CHARS = 1024
# What the documents kept may add up to, as text: the least recently read go first.
CACHE_CHARS = 32 * 1024 * 1024


class RunDocs:
    def __init__(self, cached_from: int = CACHED_FROM_CHARS, budget: int = CACHE_CHARS) -> None:
        self._cached_from = cached_from
        self._budget = budget
        self._found: OrderedDict[tuple[str, str], tuple[str, Any]] = OrderedDict()
        self._chars = 0
        # SQLite's writer thread and the event loop's PostgreSQL transactions both read.
        self._lock = threading.Lock()

    def read(self, run_id: str, column: str, value: Any) -> Any:
        """`value` as the database gave it: JSON text, or (SQLite's numeric affinity) a
        bare number, or None."""
        if not isinstance(value, str):
            return value
        if len(value) < self._cached_from:
            return json.loads(value)
        key = (run_id, column)
        with self._lock:
            found = self._found.get(key)
            if found is not None and found[0] == value:
                self._found.move_to_end(key)
                return found[1]
        decoded = json.loads(value)
        with self._lock:
            self._keep(key, value, decoded)
        return decoded

    def _keep(self, key: tuple[str, str], text: str, decoded: Any) -> None:
        replaced = self._found.pop(key, None)
        if replaced is not None:
            self._chars -= len(replaced[0])
        if len(text) > self._budget:
            return
        self._found[key] = (text, decoded)
        self._chars += len(text)
        while self._chars > self._budget:
            _, (dropped, _) = self._found.popitem(last=False)
            self._chars -= len(dropped)


RUN_DOCS = RunDocs()
