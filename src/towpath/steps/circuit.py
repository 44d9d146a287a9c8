"""A circuit breaker per destination (host and port), shared by a process's step calls: after
`failures` calls in a row fail (no answer, a timeout, a 5xx), calls there are refused without
being sent for `open_seconds`; then one trial call at a time goes through (half-open), and
its success closes the circuit again, its failure opens it anew."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# The kinds of failure that say the destination is in trouble; a 4xx says the request was.
TROUBLE = frozenset({"network", "timeout", "5xx"})
# Destinations remembered at most: the least recently used are forgotten beyond it.
MAX_DESTINATIONS = 10_000


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class _Circuit:
    failures: int = 0
    state: CircuitState = CircuitState.CLOSED
    opened_at: float = 0.0
    trial_running: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why a call was not sent: the destination's circuit is open."""

    destination: str
    failures: int
    retry_in_seconds: float


class CircuitBreakers:
    def __init__(
        self,
        failures: int = 5,
        open_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState], None] | None = None,
    ) -> None:
        # 0 failures turns breaking off.
        self.threshold = failures
        self.open_seconds = open_seconds
        self._clock = clock
        self._on_change = on_change
        self._circuits: OrderedDict[str, _Circuit] = OrderedDict()

    def states(self) -> dict[str, CircuitState]:
        return {where: circuit.state for where, circuit in self._circuits.items()}

    def before(self, destination: str) -> Refusal | None:
        """None when a call may go; else why not. A call let through while half-open is the
        trial: `after` must be called for it."""
        circuit = self._circuits.get(destination)
        if self.threshold <= 0 or circuit is None or circuit.state == CircuitState.CLOSED:
            return None
        waited = self._clock() - circuit.opened_at
        if circuit.state == CircuitState.OPEN and waited >= self.open_seconds:
            self._set(destination, circuit, CircuitState.HALF_OPEN)
        if circuit.state == CircuitState.HALF_OPEN and not circuit.trial_running:
            circuit.trial_running = True
            return None
        left = max(self.open_seconds - waited, 0.0)
        # A trial is out: ask again once it may have ended.
        return Refusal(destination, circuit.failures, left or min(self.open_seconds, 1.0))

    def after(self, destination: str, trouble: bool) -> tuple[CircuitState, CircuitState]:
        """Record how a call that was sent ended: the circuit's state before and after."""
        circuit = self._circuits.get(destination)
        before = circuit.state if circuit is not None else CircuitState.CLOSED
        if self.threshold <= 0:
            return before, before
        if not trouble:
            # A healthy destination needs no memory.
            if self._circuits.pop(destination, None) is not None:
                self._notify(destination, before, CircuitState.CLOSED)
            return before, CircuitState.CLOSED
        if circuit is None:
            circuit = self._circuits[destination] = _Circuit()
            if len(self._circuits) > MAX_DESTINATIONS:
                self._circuits.popitem(last=False)
        self._circuits.move_to_end(destination)
        circuit.trial_running = False
        circuit.failures += 1
        if circuit.state == CircuitState.HALF_OPEN or circuit.failures >= self.threshold:
            circuit.opened_at = self._clock()
            self._set(destination, circuit, CircuitState.OPEN)
        return before, circuit.state

    def cut_off(self, destination: str) -> None:
        """Record a call that was sent but never waited out: its caller stopped it (the run
        was cancelled, another worker took the step over, the worker is stopping). That
        says nothing of the destination, so nothing is counted; a trial it was makes room
        for the next call to be the trial."""
        circuit = self._circuits.get(destination)
        if circuit is not None:
            circuit.trial_running = False

    def _set(self, destination: str, circuit: _Circuit, state: CircuitState) -> None:
        before, circuit.state = circuit.state, state
        self._notify(destination, before, state)

    def _notify(self, destination: str, before: CircuitState, after: CircuitState) -> None:
        if before != after and self._on_change is not None:
            self._on_change(destination, after)
