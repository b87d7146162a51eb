"""Review of issue 11 (the safety net), tried from outside: each test was a finding, written as a
strict xfail on branch review11, and passes since its fix (branch issue-11-fixes). One file per theme;
they stay as the proof."""
