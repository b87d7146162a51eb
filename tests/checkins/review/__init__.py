"""Review of issue 11 (the safety net), tried from outside: each finding is a strict xfail that the
fix will flip. One file per theme."""

import pytest


def finding(reason: str):
    """Mark a test as a finding: it must fail, and only by its assertion (a broken fixture still fails)."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)
