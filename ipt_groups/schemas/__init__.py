"""Marshmallow schemas: `*Schema` dumps output, `*Args` loads and validates input."""
