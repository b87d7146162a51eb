"""Progress of long work, shown by whoever runs it: the CLI draws a bar on a terminal; elsewhere
nothing. Plain Python, so pure cores can report it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
# track(items, how many, label) yields the items, reporting each one as it is done.
Track = Callable[[Iterable[T], int, str], Iterable[T]]


def untracked(items: Iterable[T], total: int, label: str) -> Iterable[T]:
    """Report nothing."""
    return items
