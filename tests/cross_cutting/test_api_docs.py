"""The docs page works with no network: it names no external host, every asset it references is
served by the app, the bundled swagger-ui is the pinned copy, and its policy lets scripts come from
this server only (coordinators paste their tokens there)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ipt_groups.api.apidoc import content_security_policy

STATIC = Path(__file__).resolve().parents[2] / "ipt_groups" / "static"
PINNED = "swagger-ui-dist 5.35.0"


class References(HTMLParser):
    """Every URL an element of the page names (src, href, and the spec's data-spec-url)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href", "data-spec-url", "action") and v]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def test_the_docs_page_names_no_external_host(client):
    r = client.get("/api/docs")
    html = r.get_data(as_text=True)
    urls = references(html)
    assert len(urls) == 4, urls  # the stylesheet, swagger-ui, the script that starts it, the spec
    assert [u for u in urls if urlsplit(u).netloc or urlsplit(u).scheme] == []
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == []
    assert "<script>" not in html  # no inline script: the policy below forbids them


def test_every_asset_the_docs_page_references_is_served_by_the_app(client):
    for url in references(client.get("/api/docs").get_data(as_text=True)):
        r = client.get(urljoin("http://localhost/api/docs", url))
        assert r.status_code == 200 and len(r.data) > 0, url
        r.close()


def test_the_bundled_swagger_ui_is_the_pinned_copy():
    version = (STATIC / "swagger-ui" / "VERSION").read_text()
    assert version.startswith(PINNED)
    recorded = dict(
        reversed(line.split()) for line in version.splitlines() if re.match(r"[0-9a-f]{64} ", line)
    )
    assert set(recorded) == {"swagger-ui-bundle.js", "swagger-ui.css"}
    for name, digest in recorded.items():
        assert hashlib.sha256((STATIC / "swagger-ui" / name).read_bytes()).hexdigest() == digest, name
    assert (
        (STATIC / "swagger-ui" / "LICENSE")
        .read_text()
        .startswith("\n                                 Apache")
    )


def test_the_docs_page_loads_scripts_from_this_server_only(client):
    policy = client.get("/api/docs").headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy
    assert "unsafe-eval" not in policy and "http" not in policy
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_a_swagger_ui_copy_elsewhere_is_allowed_by_its_origin_alone():
    policy = content_security_policy("https://assets.example.org/swagger-ui/5.35.0/")
    assert "script-src 'self' https://assets.example.org;" in policy
    assert "connect-src 'self';" in policy
