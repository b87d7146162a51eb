"""People: members on the waitlist and in groups, facilitators, their availability, and coordinators."""
