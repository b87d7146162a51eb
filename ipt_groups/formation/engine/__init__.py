"""Group formation for IPT-G: pure functions over plain data, no Flask and no database."""

from ipt_groups.formation.engine.checking import check_group
from ipt_groups.formation.engine.model import (
    Facilitator,
    GroupingInputError,
    Member,
    PlanningInput,
    Policy,
)
from ipt_groups.formation.engine.parsing import parse_input
from ipt_groups.formation.engine.proposal import Budget, greedy_groups, propose_groups

__all__ = [
    "Budget",
    "Facilitator",
    "GroupingInputError",
    "Member",
    "PlanningInput",
    "Policy",
    "check_group",
    "greedy_groups",
    "parse_input",
    "propose_groups",
]
