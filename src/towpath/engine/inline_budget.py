"""What one write transaction may spend running pure steps inline, in steps, template time
and rendered characters: slow or large templates must not hold the writer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.domain.template_sandbox import approximate_size
from towpath.domain.templates import render_time_cap

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.engine.execute import Result
    from towpath.engine.work import Work

# The defaults: a few tens of milliseconds of the writer, and a render's worth of output.
INLINE_STEPS = 100
INLINE_SECONDS = 0.02
INLINE_OUTPUT_CHARS = 1024 * 1024


@dataclass
class InlineBudget:
    """What one transaction has left for running steps inline, its time counted in the
    CPU time of the thread running them. Once any part is spent, the steps made ready go
    to a worker, which runs them outside the write transaction."""

    steps: int
    seconds: float
    output_chars: int

    @property
    def spent(self) -> bool:
        return self.steps <= 0 or self.seconds <= 0 or self.output_chars <= 0

    def run(self, inline: Callable[[Work], Result | None], work: Work) -> Result | None:
        """Run `work` inline, its templates stopped when the time left runs out: it then
        comes back None, for a worker to run under the templates' own limits."""
        began = time.thread_time()
        with render_time_cap(self.seconds):
            done = inline(work)
        self.seconds -= time.thread_time() - began
        if done is not None:
            self.steps -= 1
            written = (done.input, getattr(done.outcome, "output", None))
            self.output_chars -= approximate_size(written, self.output_chars)
        return done
