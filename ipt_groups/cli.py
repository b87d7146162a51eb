"""Thin click commands under `flask --app wsgi ipt ...`; each is audited as the CLI user."""

from __future__ import annotations

import getpass
import logging
import os
from datetime import UTC, datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ipt_groups import auth
from ipt_groups.errors import DomainError
from ipt_groups.extensions import db
from ipt_groups.models import ApiToken

ipt = AppGroup("ipt", help="ipt-groups administration.")


def cli_actor() -> str:
    """Who a command acts as, for the audit log."""
    return f"cli:{getpass.getuser()}"


def _now() -> datetime:
    return datetime.now(UTC)


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.errors.items())
    raise click.ClickException(f"{exc.message}" + (f" ({details})" if details else ""))


@ipt.command("create-token")
@click.option("--role", type=click.Choice(["coordinator", "facilitator"]), required=True)
@click.option("--name", required=True, help="Who the token is for.")
@click.option("--facilitator", "facilitator_id", type=int, help="The facilitator a facilitator token names.")
def create_token(role: str, name: str, facilitator_id: int | None) -> None:
    """Issue an API token and print it once (it is stored hashed)."""
    try:
        row, plaintext = auth.create_token(role, name, facilitator_id, cli_actor())
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"token {row.id} ({role}, {name}):")
    click.echo(plaintext)


@ipt.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke a token; it stops working at once."""
    try:
        auth.revoke_token(token_id, cli_actor(), _now())
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"token {token_id} revoked")


@ipt.command("list-tokens")
def list_tokens() -> None:
    """List tokens (never their secrets)."""
    for row in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        who = f" facilitator {row.facilitator_id}" if row.facilitator_id else ""
        click.echo(f"{row.id}\t{row.role}{who}\t{row.name}\t{state}")


@ipt.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when members already exist.")
@click.option("--seed", default=7, show_default=True)
@click.option("--token-file", type=click.Path(dir_okay=False), help="Also keep the token here (local demos).")
def load_demo(if_empty: bool, seed: int, token_file: str | None) -> None:
    """Load a small demo programme and print a coordinator token."""
    from ipt_groups.demo import load_demo_programme

    token = load_demo_programme(cli_actor(), _now(), seed, if_empty)
    db.session.commit()
    if not token:
        click.echo("Demo programme already loaded.")
        return
    if token_file:
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(token + "\n")
    click.echo("Demo programme loaded. Coordinator token:")
    click.echo(token)


@ipt.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (one per deployment): it sends due messages every tick."""
    from flask import current_app

    from ipt_groups.scheduler import AlreadyRunning, run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_scheduler(current_app._get_current_object())
    except AlreadyRunning as exc:
        raise click.ClickException(f"not starting: {exc}") from exc


@ipt.command("tick")
def tick_command() -> None:
    """Run one dispatcher tick now (operations and tests); prints what it did."""
    from flask import current_app

    from ipt_groups.messaging import make_sender
    from ipt_groups.scheduler import tick, worker_id

    app = current_app._get_current_object()
    stats = tick(app, make_sender(app.config), None, worker_id())
    click.echo(
        f"claimed {stats.claimed}, expired {stats.expired}, {stats.by_outcome}" if stats else "tick failed"
    )


@ipt.command("preview-cycle")
@click.argument("group_id", type=int)
def preview_cycle(group_id: int) -> None:
    """Print every message the group's cycle will send, in the recipients' local times."""
    from ipt_groups.messaging.preview import preview_lines

    for line in preview_lines(group_id):
        click.echo(line)
