"""The layout's walls, checked on the import graph that grimp builds from the source: pure cores
import no web or database code; only messaging/twilio.py imports twilio; models import no capability,
web or schema module; messaging/ imports no capability; no import cycle between modules (imports
inside functions count; `if TYPE_CHECKING:` imports never run and do not). Each wall is also shown to
fail, on a small package written with one broken import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import grimp
import pytest

PACKAGE = "ipt_groups"
CAPABILITIES = ("people", "groups", "formation", "cycles", "checkins", "attendance", "settings")
# Plain Python over plain data: no Flask, no database, no web module.
PURE_CORES = (
    "people.availability",
    "people.waitlist_sheet",
    "formation.engine",
    "cycles.templates",
    "cycles.calendar",
    "cycles.plan",
    "checkins.instruments",
    "checkins.wording",
    "checkins.replies",
    "checkins.crisis",
    "checkins.item9",
    "attendance.rules",
    "attendance.reports",
    "checkins.outcomes",
    "web.charts",
    "web.grid",
    "messaging.timing",
    "messaging.texts",
    "messaging.catalogue",
    "messaging.catalogue_checks",
    "messaging.segments",
    "settings.texts",
    "vocabulary",
    "time_of_day",
    "errors",
    "progress",
)
WEB_AND_DB = ("flask", "flask_smorest", "flask_sqlalchemy", "flask_migrate", "flask_limiter", "werkzeug")
WEB_AND_DB += ("sqlalchemy", "marshmallow", "webargs", "apscheduler", "twilio")
UPPER = ("api", "app", "cli", "worker", "devtools", "extensions", "models", "audit", "auth", "signin", "web")


def build(package: str) -> grimp.ImportGraph:
    """The package's import graph, external packages squashed to their names; nothing cached on disk."""
    return grimp.build_graph(
        package, include_external_packages=True, exclude_type_checking_imports=True, cache_dir=None
    )


def _modules(graph: grimp.ImportGraph, name: str) -> set[str]:
    if name not in graph.modules:
        return set()
    return {name} | graph.find_descendants(name) if graph.find_children(name) else {name}


def _chains(graph, sources: set[str], targets: set[str]) -> list[str]:
    found = []
    for source in sorted(sources):
        for target in sorted(t for t in targets if t in graph.modules):
            if source != target and (chain := graph.find_shortest_chain(source, target)):
                found.append(" -> ".join(chain))
    return found


def pure_core_breaches(graph, package: str, cores, capabilities) -> list[str]:
    """Chains from a pure core to web or database code, to the shared plumbing above it, or to any
    capability's database side (a core may use another pure core)."""
    pure = {m for core in cores for m in _modules(graph, f"{package}.{core}")}
    upper = {m for name in UPPER for m in _modules(graph, f"{package}.{name}")}
    impure = {m for cap in capabilities for m in _modules(graph, f"{package}.{cap}")} - pure
    return _chains(graph, pure, set(WEB_AND_DB) | upper | impure)


def twilio_importers(graph, package: str) -> set[str]:
    """Modules other than messaging/twilio.py that import twilio."""
    if "twilio" not in graph.modules:
        return set()
    return graph.find_modules_that_directly_import("twilio") - {f"{package}.messaging.twilio"}


def models_breaches(graph, package: str, capabilities) -> list[str]:
    """Chains from the shared tables up to a capability, a web or a schema module."""
    above = {
        m for name in (*capabilities, "api", "app", "messaging") for m in _modules(graph, f"{package}.{name}")
    }
    return _chains(graph, _modules(graph, f"{package}.models"), above | {"marshmallow", "werkzeug"})


def messaging_breaches(graph, package: str, capabilities) -> list[str]:
    """Chains from messaging/ to a capability, or to the processes that wire capabilities together."""
    above = {
        m
        for name in (*capabilities, "app", "cli", "worker", "devtools")
        for m in _modules(graph, f"{package}.{name}")
    }
    return _chains(graph, _modules(graph, f"{package}.messaging"), above)


def web_breaches(graph, package: str) -> list[str]:
    """The pages are the top: only the app factory imports them, and they send no SMS themselves (no
    direct import of messaging/: texts go through the capabilities' operations and the outbox)."""
    web = _modules(graph, f"{package}.web")
    messaging = _modules(graph, f"{package}.messaging")
    found = []
    for module in sorted(web):
        importers = graph.find_modules_that_directly_import(module) - web - {f"{package}.app"}
        found += [f"{importer} -> {module}" for importer in sorted(importers)]
        found += [
            f"{module} -> {m}" for m in sorted(graph.find_modules_directly_imported_by(module) & messaging)
        ]
    return found


def import_cycles(graph, package: str) -> list[str]:
    """One line per direct import that closes a cycle: the import, then the way back."""
    cycles = []
    for module in sorted(m for m in graph.modules if m == package or m.startswith(package + ".")):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.startswith(package) and (back := graph.find_shortest_chain(imported, module)):
                cycles.append(f"{module} -> " + " -> ".join(back))
    return cycles


@pytest.fixture(scope="module")
def graph():
    return build(PACKAGE)


def test_pure_cores_import_no_web_or_database_code(graph):
    assert pure_core_breaches(graph, PACKAGE, PURE_CORES, CAPABILITIES) == []


def test_only_the_twilio_adapter_imports_twilio(graph):
    assert graph.find_modules_that_directly_import("twilio") == {"ipt_groups.messaging.twilio"}
    assert twilio_importers(graph, PACKAGE) == set()


def test_models_import_no_capability_web_or_schema_module(graph):
    assert models_breaches(graph, PACKAGE, CAPABILITIES) == []


def test_messaging_knows_no_capability(graph):
    assert messaging_breaches(graph, PACKAGE, CAPABILITIES) == []


def test_only_the_app_imports_the_pages_and_they_send_no_sms(graph):
    assert web_breaches(graph, PACKAGE) == []


def test_no_import_cycles(graph):
    assert import_cycles(graph, PACKAGE) == []


def test_every_pure_core_is_in_the_graph(graph):
    """A renamed core must be renamed here too, or its wall would check nothing."""
    assert [c for c in PURE_CORES if f"{PACKAGE}.{c}" not in graph.modules] == []


_PROBE = """
import importlib, sys
heavy = ("flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "marshmallow")
for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded = sorted(m for m in heavy if m in sys.modules)
    if loaded:
        print(name, *loaded)
        break
"""


def _heavy_after_import(*modules: str) -> str:
    """What the first of `modules` to load Flask or SQLAlchemy loaded, importing them in a fresh
    interpreter in order (package __init__ files included, which the graph does not see)."""
    run = subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True)
    return run.stdout.strip()


def test_importing_a_pure_core_loads_neither_flask_nor_sqlalchemy():
    assert _heavy_after_import(*(f"{PACKAGE}.{core}" for core in PURE_CORES)) == ""


def test_the_import_probe_sees_flask_when_it_is_loaded():
    assert _heavy_after_import(f"{PACKAGE}.people.availability", f"{PACKAGE}.extensions").startswith(
        f"{PACKAGE}.extensions flask"
    )


# --- each wall fails when it is broken: a small package shaped like ours, with one bad import ---------

WALLED = {
    "__init__.py": "",
    "extensions.py": "import flask\nimport sqlalchemy\n",
    "models/__init__.py": "from walled.extensions import sqlalchemy\n",
    "messaging/__init__.py": "",
    "messaging/outbox.py": "from walled import models\n",
    "messaging/twilio.py": "import twilio\n",
    "checkins/__init__.py": "",
    "checkins/instruments.py": "import re\n",
    "checkins/inbox.py": "from walled.checkins import instruments\nfrom walled.messaging import outbox\n",
    "checkins/schemas.py": "import marshmallow\n",
    "checkins/api.py": "import flask\nfrom walled.checkins import inbox, schemas\n",
    "web/__init__.py": "",
    "web/views.py": "import flask\nfrom walled.checkins import inbox\n",
    "app.py": "from walled.web import views\n",
}
WALLED_CORES = ("checkins.instruments",)


def _walled(tmp_path, monkeypatch, changes: dict | None = None) -> grimp.ImportGraph:
    files = {**WALLED, **(changes or {})}
    for path, text in files.items():
        (tmp_path / "walled" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "walled" / path).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    return build("walled")


def _all_walls(graph) -> dict[str, object]:
    return {
        "pure": pure_core_breaches(graph, "walled", WALLED_CORES, ("checkins",)),
        "twilio": twilio_importers(graph, "walled"),
        "models": models_breaches(graph, "walled", ("checkins",)),
        "messaging": messaging_breaches(graph, "walled", ("checkins",)),
        "cycles": import_cycles(graph, "walled"),
        "web": web_breaches(graph, "walled"),
    }


def _broken(walls: dict) -> set[str]:
    return {name for name, found in walls.items() if found}


def test_the_small_package_keeps_every_wall(tmp_path, monkeypatch):
    assert _broken(_all_walls(_walled(tmp_path, monkeypatch))) == set()


def test_a_pure_core_that_imports_the_database_in_a_function_breaks_its_wall(tmp_path, monkeypatch):
    core = "import re\n\ndef later():\n    from walled.extensions import sqlalchemy\n"
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"checkins/instruments.py": core}))
    assert _broken(walls) == {"pure"}
    assert "walled.checkins.instruments -> walled.extensions" in walls["pure"]


def test_a_pure_core_that_imports_flask_breaks_its_wall(tmp_path, monkeypatch):
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"checkins/instruments.py": "import flask\n"}))
    assert walls["pure"] == ["walled.checkins.instruments -> flask"]


def test_twilio_imported_outside_the_adapter_breaks_its_wall(tmp_path, monkeypatch):
    inbox = WALLED["checkins/inbox.py"] + "from twilio.rest import Client\n"
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"checkins/inbox.py": inbox}))
    assert _broken(walls) == {"twilio"} and walls["twilio"] == {"walled.checkins.inbox"}


def test_models_that_import_a_schema_break_their_wall(tmp_path, monkeypatch):
    models = WALLED["models/__init__.py"] + "from walled.checkins import schemas\n"
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"models/__init__.py": models}))
    # messaging/ uses the models, so through them it now reaches a capability too
    assert _broken(walls) == {"models", "messaging"}
    assert "walled.models -> walled.checkins.schemas" in walls["models"]


def test_messaging_that_imports_a_capability_breaks_its_wall(tmp_path, monkeypatch):
    outbox = WALLED["messaging/outbox.py"] + "from walled.checkins import instruments\n"
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"messaging/outbox.py": outbox}))
    assert _broken(walls) == {"messaging"}
    assert walls["messaging"] == ["walled.messaging.outbox -> walled.checkins.instruments"]


def test_a_cycle_closed_by_a_deferred_import_breaks_its_wall(tmp_path, monkeypatch):
    outbox = WALLED["messaging/outbox.py"] + "\ndef later():\n    from walled.messaging import twilio\n"
    twilio = "import twilio\nfrom walled.messaging import outbox\n"
    walls = _all_walls(
        _walled(tmp_path, monkeypatch, {"messaging/outbox.py": outbox, "messaging/twilio.py": twilio})
    )
    assert _broken(walls) == {"cycles"}
    assert "walled.messaging.outbox -> walled.messaging.twilio -> walled.messaging.outbox" in walls["cycles"]


def test_a_type_checking_import_is_no_cycle(tmp_path, monkeypatch):
    """`if TYPE_CHECKING:` never runs (checkins/replies.py names instruments' type this way)."""
    outbox = WALLED["messaging/outbox.py"] + (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from walled.messaging import twilio\n"
    )
    twilio = "import twilio\nfrom walled.messaging import outbox\n"
    walls = _all_walls(
        _walled(tmp_path, monkeypatch, {"messaging/outbox.py": outbox, "messaging/twilio.py": twilio})
    )
    assert _broken(walls) == set()


def test_a_capability_that_imports_the_pages_breaks_their_wall(tmp_path, monkeypatch):
    inbox = WALLED["checkins/inbox.py"] + "from walled.web import views\n"
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"checkins/inbox.py": inbox}))
    assert "web" in _broken(walls)
    assert "walled.checkins.inbox -> walled.web.views" in walls["web"]


def test_pages_that_send_sms_themselves_break_their_wall(tmp_path, monkeypatch):
    views = WALLED["web/views.py"] + "from walled.messaging import outbox\n"
    walls = _all_walls(_walled(tmp_path, monkeypatch, {"web/views.py": views}))
    assert _broken(walls) == {"web"} and walls["web"] == ["walled.web.views -> walled.messaging.outbox"]
