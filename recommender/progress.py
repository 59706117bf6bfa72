"""Progress of long work, reported once and shown twice: as terminal bars and as a job's state.

Builds run from the CLI (where people want a tqdm bar per step) and inside the web service (where
``GET /jobs/<id>`` must say how far a rebuild got). Core code reports to a :class:`Progress`; it draws bars
when asked and forwards every update to an optional callback, so neither front end leaks into the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tqdm import tqdm

#: ``callback(step, done, total)``; ``total`` is ``None`` when unknown.
Callback = Callable[[str, int, int | None], None]


@dataclass
class Step:
    """One named step of a long operation, advanced as work is done."""

    name: str
    total: int | None
    done: int = 0
    _bar: tqdm | None = None
    _callback: Callback | None = None

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self._bar is not None:
            self._bar.update(amount)
        if self._callback is not None:
            self._callback(self.name, self.done, self.total)


@dataclass
class Progress:
    """Where progress goes: tqdm bars on stderr (``bars``) and/or a ``callback``."""

    bars: bool = False
    callback: Callback | None = None

    @contextmanager
    def step(self, name: str, total: int | None = None, unit: str = "") -> Iterator[Step]:
        """A step with a bar of ``total`` units (a spinner-like count when ``None``)."""
        bar = tqdm(total=total, desc=name, unit=unit, leave=True) if self.bars else None
        step = Step(name, total, _bar=bar, _callback=self.callback)
        if self.callback is not None:
            self.callback(name, 0, total)
        try:
            yield step
        finally:
            if bar is not None:
                bar.close()


SILENT = Progress()
