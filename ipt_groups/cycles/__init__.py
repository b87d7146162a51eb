"""Cycles: templates, calendar arithmetic (pure), sessions, cohort rules, individual meetings and their
reminders."""
