"""The persistent aggregates; importing this package registers every table on `db.metadata`."""

from ipt_groups.models.audit import AuditEntry
from ipt_groups.models.facilitator import Facilitator
from ipt_groups.models.group import Enrolment, Group
from ipt_groups.models.member import Member
from ipt_groups.models.token import ApiToken

__all__ = ["ApiToken", "AuditEntry", "Enrolment", "Facilitator", "Group", "Member"]
