"""Attendance: rules (pure), records, sheets (JSON, CSV, PDF) and the calendar feed."""
