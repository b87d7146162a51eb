"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`; it configures the process's logging."""

from ipt_groups.app import create_app
from ipt_groups.logs import configure_logging

app = create_app()
configure_logging(app.config)
