"""How far a build has got, for the chat's progress bar and `rag build`'s terminal line.

A build of a large upload takes minutes; a person waiting needs to see which file is read, how many
texts are embedded out of how many, and about how long is left. The build reports a `BuildProgress`
to an optional callback at each step; it never prints or draws anything itself.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, TextIO


class Stage(Enum):
    READING = "reading"
    EMBEDDING = "embedding"
    SAVING = "saving"


@dataclass(frozen=True)
class BuildProgress:
    stage: Stage
    done: int
    total: int
    detail: str = ""  # the file being read, or the files being embedded
    started: float = field(default_factory=time.monotonic)  # when this stage began

    @property
    def fraction(self) -> float:
        """Of the whole build: reading counts for a tenth, embedding for most, saving for the rest."""
        share = self.done / self.total if self.total else 1.0
        return {Stage.READING: 0.1 * share, Stage.EMBEDDING: 0.1 + 0.85 * share, Stage.SAVING: 0.95}[self.stage]

    def seconds_left(self, now: float | None = None) -> float | None:
        """Embedding time left at the rate so far; None until a first batch gives a rate."""
        if self.stage is not Stage.EMBEDDING or not self.done or self.done >= self.total:
            return None
        elapsed = (now if now is not None else time.monotonic()) - self.started
        return elapsed / self.done * (self.total - self.done)

    def describe(self, now: float | None = None) -> str:
        if self.stage is Stage.READING:
            return f"Reading file {self.done + 1:,} of {self.total:,}: {self.detail}" if self.detail else \
                f"Reading {self.total:,} files"
        if self.stage is Stage.SAVING:
            return "Saving the index"
        what = f"Embedding {self.detail}: " if self.detail else "Embedding "
        line = f"{what}{self.done:,} of {self.total:,} texts ({100 * self.done // max(self.total, 1)}%)"
        left = self.seconds_left(now)
        return f"{line}, about {duration(left)} left" if left is not None else line


def duration(seconds: float) -> str:
    """"40 s", "3 min": an estimate, so rounded."""
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{round(seconds / 60)} min"


Progress = Callable[[BuildProgress], None]


def ignore(_: BuildProgress) -> None:
    """The default callback: a build nobody watches."""


class TerminalProgress:
    """`rag build`'s progress on stderr: one line rewritten in place on a terminal; in a log (not a TTY),
    a line per file of a folder and per tenth of the embedding, so a CI log stays short."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.last: tuple = ()

    def __call__(self, progress: BuildProgress) -> None:
        if progress.stage is Stage.READING and progress.total < 2:
            return  # one file: its name is the command's own argument, and an error about it follows alone
        step = (progress.stage, progress.done if progress.stage is not Stage.EMBEDDING
                else 10 * progress.done // max(progress.total, 1))
        if self.live:
            self.stream.write("\r\033[K" + progress.describe())
            if progress.stage is Stage.SAVING:
                self.stream.write("\n")
        elif step != self.last:
            self.stream.write(progress.describe() + "\n")
        self.stream.flush()
        self.last = step
