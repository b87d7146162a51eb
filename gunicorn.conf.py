"""gunicorn's settings, the same for `make run`, systemd and the container (`gunicorn -c gunicorn.conf.py
wsgi:app`). Environment: HOST (127.0.0.1), PORT (8000), WEB_WORKERS (2), LOG_FORMAT, GUNICORN_ACCESS_LOG,
PROMETHEUS_MULTIPROC_DIR (instance/prometheus)."""

import os
import shutil

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
# The app writes a line per request itself, with its request id and never a query string (calendar feed
# keys). gunicorn's own access log is off unless asked for (GUNICORN_ACCESS_LOG=-), and then it logs the
# path alone (%(U)s, not %(r)s), for the same reason.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# Prometheus multiprocess mode: each worker writes its counts to files here, /metrics sums them. Set before
# any worker imports prometheus_client, emptied at every start (old workers' counts would be summed).
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance", "prometheus"),
)
# Imported here, after the directory is set and before any worker exists, not inside child_exit: that hook
# runs in the master's SIGCHLD handler, and when two workers exit together (every stop) the second signal
# arrived in the middle of the first one's import and re-entered it ("partially initialized module").
from prometheus_client import multiprocess  # noqa: E402

if os.environ.get("LOG_FORMAT", "json" if os.environ.get("APP_ENV") == "production" else "text") == "json":
    # gunicorn's own lines (start, workers booted and lost) as JSON objects too.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "ipt_groups.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }


def on_starting(server):
    """Start with an empty metrics directory."""
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)


def child_exit(server, worker):
    """A worker that exits leaves its counters (still summed); its live gauges go."""
    multiprocess.mark_process_dead(worker.pid)
