"""The terminal: one console for messages (stderr, so that --json output stays clean) and progress bars."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# Tables need room: when the output is not a terminal (a log, a pipe), lay them out on 140 columns.
console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 140)
sortie = Console(highlight=False, width=None if sys.stdout.isatty() else 140)


class _Compte(MofNCompleteColumn):
    """« 3/120 », or nothing while the total is not known yet (never « 0/? »)."""

    def render(self, task):
        if task.total is None:
            from rich.text import Text

            return Text("")
        return super().render(task)


def progression() -> Progress:
    """A progress display for long work; silent when the output is not a terminal."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        _Compte(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
