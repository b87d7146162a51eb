"""Errors the domain raises; the API turns each into a JSON response naming fields and reasons."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal with an HTTP-like status and per-field reasons."""

    status = 422

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    status = 422


class Conflict(DomainError):
    status = 409


class NotFound(DomainError):
    status = 404
