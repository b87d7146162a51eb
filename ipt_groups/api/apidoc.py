"""The OpenAPI document's common parts: the error responses every operation can give (all in the
`{code, status, message, errors}` shape), and X-Pagination described as the JSON it is; and the
policy of the docs page, where coordinators paste their tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from apispec import BasePlugin
from flask import current_app, request

PAGINATION_HEADER = {
    "description": "Pagination metadata, a JSON object",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    name: {"type": "integer"}
                    for name in (
                        "total",
                        "total_pages",
                        "first_page",
                        "last_page",
                        "page",
                        "previous_page",
                        "next_page",
                    )
                },
            }
        }
    },
}
_WRITES = ("post", "put", "patch", "delete")


def common_errors(path: str, method: str, operation: dict) -> dict[str, str]:
    """Status code -> flask-smorest's named error response, for what any such operation can refuse."""
    codes = {"401": "UNAUTHORIZED", "403": "FORBIDDEN", "422": "UNPROCESSABLE_ENTITY"}
    codes["429"] = "TOO_MANY_REQUESTS"
    if "{" in path:
        codes["404"] = "NOT_FOUND"
    if method in _WRITES:
        codes["409"] = "CONFLICT"
    if "requestBody" in operation:
        codes["415"] = "UNSUPPORTED_MEDIA_TYPE"
    return codes


class CommonResponses(BasePlugin):
    """Adds the common error responses to each /api/v1 operation, keeping any it documents itself."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        if not (path or "").startswith("/api/v1/"):
            return
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for code, name in common_errors(path, method, operation).items():
                if code not in documented:
                    responses[code] = name
            for response in responses.values():
                if isinstance(response, dict) and "X-Pagination" in response.get("headers", {}):
                    response["headers"]["X-Pagination"] = PAGINATION_HEADER


def install(spec) -> None:
    """Add the plugin to an app's spec before any blueprint is registered."""
    plugin = CommonResponses()
    plugin.init_spec(spec)
    spec.plugins.append(plugin)


DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"  # flask-smorest's; templates/swagger_ui.html is the page


def docs_page_policy(response):
    """The docs page runs scripts from this server (or the configured swagger-ui copy) and talks to
    this server only: a token pasted there can go nowhere else."""
    if request.endpoint == DOCS_ENDPOINT:
        policy = content_security_policy(current_app.config.get("OPENAPI_SWAGGER_UI_URL") or "")
        response.headers["Content-Security-Policy"] = policy
    return response


def content_security_policy(swagger_ui_url: str) -> str:
    """The docs page's Content-Security-Policy; a swagger-ui copy elsewhere adds its origin."""
    parts = urlsplit(swagger_ui_url)
    sources = "'self'" + (f" {parts.scheme}://{parts.netloc}" if parts.netloc else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {sources}",
            f"style-src {sources} 'unsafe-inline'",  # swagger-ui styles its elements inline
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
