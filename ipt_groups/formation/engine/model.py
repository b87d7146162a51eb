"""Plain-data types of group formation: the policy, members, facilitators and the planning input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ipt_groups.people.availability import Window
from ipt_groups.vocabulary import DAYS

MATCHABLE = ("problem_area", "language", "age_band", "gender")
DEFAULT_MATCH_ON = ("problem_area", "language", "age_band")
# a group meets in one language and never mixes adolescents and adults: commit refuses any other group
ALWAYS_MATCHED = ("language", "age_band")


class GroupingInputError(ValueError):
    """The planning document is invalid; `errors` maps field paths to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"invalid planning input: {sorted(errors)}")
        self.errors = errors


@dataclass(frozen=True)
class Policy:
    """How groups are formed; defaults follow the WHO manual (6-10 members, 90-minute sessions)."""

    first_session_date: date
    min_size: int = 6
    max_size: int = 10
    session_minutes: int = 90
    slot_step_minutes: int = 30
    match_on: tuple[str, ...] = DEFAULT_MATCH_ON
    mix_problem_areas: bool = False
    weeks: int = 12
    time_limit_s: float = 10.0


@dataclass(frozen=True)
class Member:
    """A waitlisted member; `attrs` holds problem_area, language, age_band and gender (None = missing)."""

    id: str | int
    index: int
    attrs: dict[str, str | None]
    timezone: str
    waitlisted_at: datetime
    windows: tuple[Window, ...]

    @property
    def combo(self) -> tuple[str | None, str | None]:
        """The attributes a facilitator must be able to lead: (problem_area, language)."""
        return (self.attrs["problem_area"], self.attrs["language"])


@dataclass(frozen=True)
class ExistingGroup:
    """A group a facilitator already leads, at a weekly wall-clock slot in its own timezone.

    `dates` are the local dates it meets on; None means every week (how commit sees a group that is
    forming, scheduled or running, whatever dates its cycle has)."""

    id: str | int | None
    day: int
    start: int  # minutes after local midnight
    timezone: str
    session_minutes: int
    dates: tuple[date, ...] | None = None

    @property
    def label(self) -> str:
        name = "" if self.id is None else f"{self.id!r} "
        return f"{name}({DAYS[self.day]} {self.start // 60:02d}:{self.start % 60:02d} {self.timezone})"


@dataclass(frozen=True)
class Facilitator:
    """A facilitator; an empty `problem_areas` means any problem area (and mixed-area groups)."""

    id: str | int
    index: int
    timezone: str
    languages: frozenset[str]
    problem_areas: frozenset[str]
    max_groups: int
    windows: tuple[Window, ...]
    existing: tuple[ExistingGroup, ...] = ()

    @property
    def capacity(self) -> int:
        """New groups this facilitator may still lead: every group they lead counts toward max_groups."""
        return max(0, self.max_groups - len(self.existing))

    def accepts(self, combo: tuple[str | None, str | None]) -> bool:
        """Whether this facilitator can lead a member with this (problem_area, language)."""
        area, language = combo
        area_ok = not self.problem_areas or area in self.problem_areas
        return area_ok and (language is None or language in self.languages)


@dataclass(frozen=True)
class PlanningInput:
    """A validated planning document."""

    policy: Policy
    members: tuple[Member, ...]
    facilitators: tuple[Facilitator, ...]
    member_by_id: dict = field(default_factory=dict, compare=False, repr=False)
    facilitator_by_id: dict = field(default_factory=dict, compare=False, repr=False)
