"""Named CHECK constraints for closed vocabularies (no native enum types: they migrate badly)."""

from sqlalchemy import CheckConstraint


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """CHECK (column IN (...)) named after the column."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or column)
