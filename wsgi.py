"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from ipt_groups.app import create_app

app = create_app()
