"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from ipt_groups import create_app

app = create_app()
