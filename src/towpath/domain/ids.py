"""Identifiers: time-ordered UUIDs (version 7), so new rows land at the end of an index."""

from __future__ import annotations

import os
import random
import time
import uuid

# Seeded from the OS once per process (and again after a fork): os.urandom per id costs
# more than the rest of a run start on some machines. Ids need to be unique, not secret.
_random = random.Random(os.urandom(32))  # noqa: S311
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def new_id() -> str:
    millis = time.time_ns() // 1_000_000
    rand = _random.getrandbits(80)
    value = (millis & ((1 << 48) - 1)) << 80 | rand
    # Set version (7) and variant (RFC 4122) bits.
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))
