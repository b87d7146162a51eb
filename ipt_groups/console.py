"""The `ipt` console command (pyproject's entry point): the app is built here, so no FLASK_APP."""

from __future__ import annotations


def main() -> None:
    """Run `ipt ...` with the app the environment configures."""
    from flask.cli import ScriptInfo

    from ipt_groups.app import create_app
    from ipt_groups.cli import ipt

    ipt.main(prog_name="ipt", obj=ScriptInfo(create_app=create_app))
