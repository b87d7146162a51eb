"""The fixed vocabularies of the domain (see ../shared/DOMAIN.md)."""

PROBLEM_AREAS = ("grief", "role_dispute", "role_transition", "interpersonal_deficits")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AGE_BANDS = ("adult", "adolescent")
MEMBER_STATUSES = ("waitlisted", "enrolled", "completed", "withdrawn")
ELIGIBILITY = ("pending", "eligible", "not_eligible")  # a member never screened here: None
ROLES = ("coordinator", "facilitator")
