"""The persistent aggregates; importing this package registers every table on `db.metadata`."""

from ipt_groups.models.access import AccessEntry
from ipt_groups.models.attendance import AttendanceRecord, Rsvp
from ipt_groups.models.audit import AuditEntry
from ipt_groups.models.coordinator import Coordinator
from ipt_groups.models.facilitator import Facilitator
from ipt_groups.models.group import Enrolment, Group
from ipt_groups.models.intake import Invitation, Screening
from ipt_groups.models.member import Member
from ipt_groups.models.message import InboundMessage, Message
from ipt_groups.models.programme import CycleTemplateRow, Setting
from ipt_groups.models.proposal import GroupProposal
from ipt_groups.models.scheduler import SchedulerWorker
from ipt_groups.models.session import Cycle, GroupSession, IndividualMeeting
from ipt_groups.models.signin import SignIn, WebSession
from ipt_groups.models.survey import Alert, Checkin
from ipt_groups.models.token import ApiToken

__all__ = [
    "AccessEntry",
    "Alert",
    "ApiToken",
    "AttendanceRecord",
    "AuditEntry",
    "Checkin",
    "Coordinator",
    "Cycle",
    "CycleTemplateRow",
    "Enrolment",
    "Facilitator",
    "Group",
    "GroupProposal",
    "GroupSession",
    "InboundMessage",
    "IndividualMeeting",
    "Invitation",
    "Member",
    "Message",
    "Rsvp",
    "SchedulerWorker",
    "Screening",
    "Setting",
    "SignIn",
    "WebSession",
]
