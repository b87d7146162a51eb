"""Renderers for the attendance sheet and the facilitator calendar: JSON, CSV, PDF and iCalendar.

Pure functions over the plain data of ipt_groups.attendance.rules: no Flask, no database, no clock. The API
layer picks a renderer and sets the content type (text/csv; charset=utf-8, application/pdf, text/calendar).
"""

from ipt_groups.attendance.sheets.ical import CalendarEvent, calendar_ics, session_event, session_uid
from ipt_groups.attendance.sheets.pdf import find_fonts, sheet_pdf
from ipt_groups.attendance.sheets.tabular import report_csv, sheet_csv, sheet_json

__all__ = [
    "CalendarEvent",
    "calendar_ics",
    "find_fonts",
    "report_csv",
    "session_event",
    "session_uid",
    "sheet_csv",
    "sheet_json",
    "sheet_pdf",
]
