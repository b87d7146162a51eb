"""The catalogues in force inside the app: the shipped ones, then those of CATALOGUE_DIRS (read once
per process; start-up checks them), and who would fall back to English."""

from __future__ import annotations

from flask import current_app

from ipt_groups.messaging.catalogue import Catalogues, load_catalogues


def catalogues() -> Catalogues:
    """Every catalogue in force."""
    return load_catalogues(tuple(current_app.config.get("CATALOGUE_DIRS") or ()))


def language_warning(language: str | None) -> str | None:
    """What the API says of a language without a catalogue (its reader gets English), else None."""
    found = catalogues()
    if language is None or found.get(language) is not None:
        return None
    known = ", ".join(sorted(found.by_language))
    return f"no catalogue for language {language!r}: texts go in English (catalogues: {known})"


def without_catalogue(languages) -> list[str]:
    """Those of `languages` that have no catalogue."""
    found = catalogues()
    return [language for language in languages if found.get(language) is None]
