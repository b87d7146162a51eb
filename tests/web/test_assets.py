"""Everything the pages load is served from here (no CDN, no font service), and the basics a screen
reader needs are on every page: a language, labelled fields, named charts and buttons."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "ipt_groups" / "web"
# The SVG namespace (charts.py) is a name, not a place anything is loaded from.
EXTERNAL = re.compile(r"(?:https?:)?//(?!www\.w3\.org/2000/svg)[a-z0-9.-]+\.[a-z]{2,}", re.I)
PAGES = [
    "/app/",
    "/app/alerts",
    "/app/outreach",
    "/app/calendar",
    "/app/sessions/{session}",
    "/app/groups/{group}",
]
CONSOLE = ["/app/console", "/app/console/waitlist", "/app/console/import", "/app/console/groups"]
CONSOLE += ["/app/console/proposals", "/app/console/outcomes", "/app/groups/{group}"]


def test_no_template_or_asset_names_another_host():
    found = {
        str(path.relative_to(WEB)): EXTERNAL.findall(path.read_text())
        for path in WEB.rglob("*")
        if path.suffix in (".html", ".css", ".js", ".py")
    }
    # The SVG namespace is a name, not a place anything is loaded from.
    assert {k: [u for u in v if "www.w3.org" not in u] for k, v in found.items() if v} in (
        {},
        {"charts.py": []},
    )
    assert all(not v or all("www.w3.org" in u for u in v) for v in found.values())


def _pages(client, paths, programme) -> dict[str, str]:
    ids = {"session": programme["sessions"][2].id, "group": programme["group"].id}
    return {p: client.get(p.format(**ids)).get_data(as_text=True) for p in paths}


def _check(html: str) -> list[str]:
    problems = []
    if '<html lang="en">' not in html:
        problems.append("no language")
    for attr, url in re.findall(r'(src|href|action)="([^"]+)"', html):
        if EXTERNAL.match(url):
            problems.append(f"{attr} names another host: {url}")
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag or 'type="checkbox"' in tag or "aria-hidden" in tag:
            continue
        found = re.search(r'id="([^"]+)"', tag)
        if not found or found.group(1) not in labelled:
            problems.append(f"unlabelled field: {tag}")
    for svg in re.findall(r"<svg\b.*?</svg>", html, re.S):
        if 'role="img"' not in svg or "<title" not in svg or "<desc" not in svg:
            problems.append("a chart without a name and a description")
    if re.search(r"<button[^>]*>\s*</button>", html):
        problems.append("a button with no text")
    return problems


def test_facilitator_pages_are_local_and_labelled(lead_client, programme):
    pages = _pages(lead_client, PAGES, programme)
    assert {path: _check(html) for path, html in pages.items()} == {path: [] for path in pages}


def test_console_pages_are_local_and_labelled(coordinator_client, programme):
    pages = _pages(coordinator_client, CONSOLE, programme)
    assert {path: _check(html) for path, html in pages.items()} == {path: [] for path in pages}


@pytest.mark.parametrize("path", ["/app/signin", "/app/signin/code"])
def test_sign_in_pages_are_local_and_labelled(client, path):
    client.get("/app/signin")
    with client.session_transaction() as cookie:
        cookie["signin"] = 0
    assert _check(client.get(path).get_data(as_text=True)) == []


def test_pages_forbid_loading_from_elsewhere_and_are_never_cached(lead_client):
    r = lead_client.get("/app/")
    policy = r.headers["Content-Security-Policy"]
    assert (
        "default-src 'self'" in policy
        and "script-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "same-origin"


def test_the_checker_finds_what_it_looks_for():
    bad = '<html><input id="x" name="x"><img src="https://cdn.example.com/a.js"><svg></svg><button></button>'
    assert len(_check(bad)) == 5
