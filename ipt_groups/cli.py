"""Thin click commands: `ipt ...` (or `flask --app wsgi ipt ...`); each is audited as the CLI user."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import click
from flask import current_app
from sqlalchemy import select

from ipt_groups import auth, signin
from ipt_groups.command_errors import CommandError, OneLineErrors
from ipt_groups.errors import DomainError
from ipt_groups.extensions import db
from ipt_groups.models import ApiToken

ipt = OneLineErrors(
    "ipt",
    help="ipt-groups administration.",
    params=[click.Option(["--traceback"], is_flag=True, help="Show a failure's traceback, not one line.")],
)


def cli_actor() -> str:
    """Who a command acts as, for the audit log."""
    return f"cli:{getpass.getuser()}"


def _now() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")


def track(items: Iterable[T], total: int, label: str) -> Iterable[T]:
    """A progress bar on a terminal; nothing at all when stdout is not one (a pipe, a file, a test)."""
    if not sys.stdout.isatty():
        yield from items
        return
    with click.progressbar(items, length=total, label=label) as bar:
        yield from bar


def within(seconds: float, label: str, work: Callable[[], T]) -> T:
    """Run work bounded by `seconds` (a solver's time limit) with a bar of the time it may take."""
    if not sys.stdout.isatty():
        return work()
    ticks = max(1, int(seconds * 10))
    with ThreadPoolExecutor(1) as pool, click.progressbar(length=ticks, label=label) as bar:
        future = pool.submit(work)
        while not wait([future], timeout=0.1).done:
            bar.update(1 if bar.pos < ticks - 1 else 0)
        bar.update(ticks - bar.pos)
        return future.result()


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.errors.items())
    raise click.ClickException(f"{exc.message}" + (f" ({details})" if details else ""))


@ipt.command("create-token")
@click.option("--role", type=click.Choice(["coordinator", "facilitator"]), required=True)
@click.option("--name", required=True, help="Who the token is for.")
@click.option("--facilitator", "facilitator_id", type=int, help="The facilitator a facilitator token names.")
@click.option("--coordinator", "coordinator_id", type=int, help="The coordinator a coordinator token names.")
@click.option("--expires-in-days", type=click.IntRange(min=1), help="The token stops working after this.")
def create_token(
    role: str, name: str, facilitator_id: int | None, coordinator_id: int | None, expires_in_days: int | None
) -> None:
    """Issue an API token and print it once (it is stored hashed)."""
    expires_at = _now() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        row, plaintext = auth.create_token(
            role, name, facilitator_id, cli_actor(), coordinator_id, expires_at
        )
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
    """List tokens (never their secrets): id, role and holder, name, state, expiry, last use (UTC)."""
    now = _now()
    for row in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        who = f" facilitator {row.facilitator_id}" if row.facilitator_id else ""
        who += f" coordinator {row.coordinator_id}" if row.coordinator_id else ""
        expires = f"expires {_when(row.expires_at)}" if row.expires_at else "no expiry"
        used = f"last used {_when(row.last_used_at)}" if row.last_used_at else "never used"
        click.echo(f"{row.id}\t{row.role}{who}\t{row.name}\t{_token_state(row, now)}\t{expires}\t{used}")


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"


def _token_state(row: ApiToken, now: datetime) -> str:
    if row.revoked_at:
        return f"revoked {_when(row.revoked_at)}"
    return "expired" if row.expires_at and row.expires_at <= now else "active"


@ipt.command("revoke-feed")
@click.argument("facilitator_id", type=int)
def revoke_feed(facilitator_id: int) -> None:
    """Revoke one facilitator's calendar feed URL (it answers 404); their next calendar-link is new."""
    from ipt_groups.attendance.calendar_feed import revoke_feed as revoke
    from ipt_groups.models import Facilitator

    try:
        revoke(Facilitator.get_or_404(facilitator_id), cli_actor())
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"calendar feed of facilitator {facilitator_id} revoked")


@ipt.command("signin-link")
@click.option("--facilitator", "facilitator_id", type=int, help="The facilitator the link signs in.")
@click.option("--coordinator", "coordinator_id", type=int, help="The coordinator the link signs in.")
@click.option("--hours", type=int, default=24, show_default=True, help="How long the link lasts (1-168).")
def signin_link(facilitator_id: int | None, coordinator_id: int | None, hours: int) -> None:
    """Print a link that signs a facilitator or a coordinator in to the pages once (no code needed)."""
    if (facilitator_id is None) == (coordinator_id is None):
        raise click.UsageError("give exactly one of --facilitator and --coordinator")
    role = "facilitator" if facilitator_id is not None else "coordinator"
    try:
        person = signin.person_by_id(role, facilitator_id or coordinator_id)
        _row, token = signin.create_link(person, hours, cli_actor(), _now())
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    base = current_app.config.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{current_app.config['PORT']}"
    click.echo(f"sign-in link for {person.name} ({role}), good once for {hours} h:")
    click.echo(f"{base.rstrip('/')}/app/signin/link/{token}")


def _coordinator_fields(partial: bool, **given) -> dict:
    """The options given, checked by the API's schema (phones, languages and timezones alike)."""
    from marshmallow import ValidationError

    from ipt_groups.people.schemas import CoordinatorArgs

    try:
        return CoordinatorArgs(partial=partial).load({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"--{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items())
        raise click.ClickException(problems) from exc


@ipt.command("add-coordinator")
@click.option("--name", required=True)
@click.option("--phone", help="Texted about alerts nobody else can take and unacknowledged ones.")
@click.option("--language", default="en", show_default=True)
@click.option("--timezone", required=True, help="An IANA timezone such as America/Chicago.")
def add_coordinator(**options) -> None:
    """Add a coordinator (a person; link a token to them with create-token --coordinator)."""
    from ipt_groups.people.coordinators import create_coordinator

    try:
        person = create_coordinator(_coordinator_fields(False, **options), cli_actor(), _now())
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"coordinator {person.id} ({person.name}) added")


@ipt.command("update-coordinator")
@click.argument("coordinator_id", type=int)
@click.option("--name")
@click.option("--phone")
@click.option("--language")
@click.option("--timezone")
@click.option("--active/--inactive", default=None, help="Inactive coordinators get no alert texts.")
def update_coordinator(coordinator_id: int, **options) -> None:
    """Change a coordinator's name, phone, language, timezone or whether they are active."""
    from ipt_groups.models import Coordinator
    from ipt_groups.people.coordinators import update_coordinator as update

    try:
        update(Coordinator.get_or_404(coordinator_id), _coordinator_fields(True, **options), cli_actor())
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"coordinator {coordinator_id} updated")


@ipt.command("list-coordinators")
def list_coordinators() -> None:
    """List coordinators: id, name, phone (masked), language, timezone, active."""
    from ipt_groups.messaging.base import mask_phone
    from ipt_groups.models import Coordinator

    for c in db.session.scalars(select(Coordinator).order_by(Coordinator.id)):
        state = "active" if c.active else "inactive"
        click.echo(
            f"{c.id}\t{c.name}\t{mask_phone(c.phone) or 'no phone'}\t{c.language}\t{c.timezone}\t{state}"
        )


@ipt.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when members already exist.")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    help="Keep the token in this file instead of printing it.",
)
def load_demo(if_empty: bool, seed: int, token_file: str | None) -> None:
    """Load a small demo programme and print a coordinator token."""
    from ipt_groups.devtools.demo import load_demo_programme

    try:
        token = load_demo_programme(cli_actor(), _now(), seed, if_empty)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    if not token:
        click.echo("Demo programme already loaded.")
        return
    if token_file:
        # Kept, not printed: whoever asked for the file (make demo) prints the one token line.
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(token + "\n")
        click.echo(f"Demo programme loaded; its coordinator token is in {token_file}.")
        return
    click.echo("Demo programme loaded. Coordinator token:")
    click.echo(token)


@ipt.command("import-waitlist")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Only check the file; write nothing.")
def import_waitlist_command(csv_file, dry_run: bool) -> None:
    """Add a spreadsheet's members to the waitlist (as POST /members/import): all rows or none."""
    from ipt_groups.errors import InvalidInput
    from ipt_groups.people.waitlist_import import import_waitlist, import_warnings

    try:
        rows, members = import_waitlist(csv_file.read(), dry_run, cli_actor(), _now(), track)
    except InvalidInput as exc:
        for line in _problems(exc.errors):
            click.echo(line)
        db.session.rollback()
        raise CommandError(f"{exc.message} (each problem is listed above)") from exc
    db.session.commit()
    done = "nothing written (dry run)" if dry_run else f"{len(members)} members added to the waitlist"
    for warning in import_warnings(rows):
        click.echo(f"Warning: {warning}")
    click.echo(f"{len(rows)} rows valid; {done}.")


def _problems(errors: dict) -> Iterable[str]:
    for key, found in errors.items():
        if key == "rows":
            for row, fields in found.items():
                yield from (f"row {row}, {f}: {m}" for f, messages in fields.items() for m in messages)
        else:
            yield from (f"{key}: {m}" for m in found)


@ipt.command("scheduler")
def scheduler_command() -> None:
    """Run a scheduler process: it sends due messages every tick. Run one or several: the one holding
    the lock also does the work that runs once, and another takes over when it stops."""

    from ipt_groups.logs import configure_logging
    from ipt_groups.worker import run_scheduler

    configure_logging(current_app.config)
    run_scheduler(current_app._get_current_object())


@ipt.command("tick")
def tick_command() -> None:
    """Run one dispatcher tick now (operations and tests); prints what it did."""

    from ipt_groups.messaging import make_sender
    from ipt_groups.messaging.workers import resign
    from ipt_groups.worker import tick, worker_id

    app = current_app._get_current_object()
    worker = worker_id()
    stats = tick(app, make_sender(app.config), None, worker)
    resign(worker)  # a one-off: its heartbeat must not pass for a running scheduler's
    db.session.commit()
    click.echo(
        f"claimed {stats.claimed}, expired {stats.expired}, {stats.by_outcome}" if stats else "tick failed"
    )


@ipt.command("replay-inbound")
def replay_inbound_command() -> None:
    """Replay the inbound texts kept on disk while the database was unreachable (the scheduler's
    tick does it too, where it shares INBOUND_SPOOL_PATH with the web app)."""
    from ipt_groups.checkins.spool import replay_spooled

    click.echo(f"replayed {replay_spooled(_now())} inbound texts")


@ipt.command("replan")
@click.option("--batch", default=25, show_default=True, help="groups re-planned per transaction")
def replan_command(batch: int) -> None:
    """Re-plan every running group's messages from its current facts (after QUIET_HOURS changed):
    in batches of --batch groups, each committed, so the scheduler goes on sending between them."""
    from ipt_groups.cycles.reconcile import reconcile_all

    if batch < 1:
        raise CommandError("--batch must be at least 1")
    done = reconcile_all(
        _now(), f"the programme's quiet hours are {current_app.config['QUIET_HOURS']}", batch
    )
    click.echo(
        f"kept {done.kept}, updated {done.updated}, added {done.added}, "
        f"revived {done.revived}, cancelled {done.cancelled}"
    )


@ipt.command("preview-cycle")
@click.argument("group_id", type=int)
def preview_cycle(group_id: int) -> None:
    """Print every message the group's cycle will send, in the recipients' local times."""
    from ipt_groups.messaging.preview import preview_lines
    from ipt_groups.worker import dispatch_settings

    for line in preview_lines(group_id, dispatch_settings("preview")):
        click.echo(line)


@ipt.command("check-catalogues")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def check_catalogues_command(files) -> None:
    """Check the message catalogues in force, or catalogue FILES before adding them, against the English
    reference: every key and placeholder, date patterns, keywords, number words, forbidden words, and
    each text's segments with realistic values. Exits 1 on any problem."""
    from ipt_groups.messaging.languages import catalogues
    from ipt_groups.settings.texts import check_report

    lines, failed = check_report(catalogues(), files, current_app.config["PROGRAMME_NAME"])
    for line in lines:
        click.echo(line)
    if failed:
        raise SystemExit(1)


@ipt.command("carrier-keywords")
def carrier_keywords_command() -> None:
    """Print the keywords and replies to configure on the Twilio Messaging Service's Advanced Opt-Out,
    so that the carrier and the product stop, restart and help the same members."""
    from ipt_groups.messaging.languages import catalogues

    found = catalogues()
    for kinds, title in (
        (("opt_out",), "Opt-out"),
        (("opt_in", "resubscribe"), "Opt-in"),
        (("help",), "Help"),
    ):
        words = sorted({w for kind in kinds for words in found.keywords(kind).values() for w in words})
        click.echo(f"{title} keywords: {', '.join(words)}")
    programme = {"programme": current_app.config["PROGRAMME_NAME"]}
    for language, catalogue in sorted(found.by_language.items()):
        for key in ("stop_reply", "start_reply", "help_reply"):
            click.echo(f"{language} {key}: {catalogue.render(key, programme)}")


@ipt.command("propose-groups")
@click.option(
    "--input", "input_file", type=click.File("r"), required=True, help="A planning document (JSON)."
)
@click.option(
    "--output", "output_file", type=click.File("w"), default="-", help="Where to write the proposal."
)
def propose_groups_command(input_file, output_file) -> None:
    """Form groups from a planning file, with no database (see README for the format)."""
    import json

    from ipt_groups.api.clock import now
    from ipt_groups.formation import engine
    from ipt_groups.formation.proposals import refuse_past_start

    try:
        planning = engine.parse_input(json.load(input_file))
        refuse_past_start(planning.policy.first_session_date, now())  # the clock, pinned in tests
        limit = planning.policy.time_limit_s
        result = within(limit, f"Forming groups (up to {limit:g} s)", lambda: engine.propose_groups(planning))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{input_file.name} is not JSON: {exc}") from exc
    except engine.GroupingInputError as exc:
        found = " | ".join(
            f"{path or 'document'}: {'; '.join(msgs)}" for path, msgs in sorted(exc.errors.items())
        )
        raise click.ClickException(f"the planning document has errors: {found}") from exc
    json.dump(result, output_file, indent=2, default=str)
    output_file.write("\n")
    stats = result["stats"]
    click.echo(f"{stats['placed']} of {stats['members']} placed in {stats['groups']} groups", err=True)


@ipt.command("simulate")
@click.option("--members", default=300, show_default=True)
@click.option("--weeks", default=14, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--step-minutes", default=60, show_default=True, help="Simulated time between dispatcher ticks."
)
@click.option("--database", help="Where to run it (default: a throw-away SQLite file).")
def simulate_command(members: int, weeks: int, seed: int, step_minutes: int, database: str | None) -> None:
    """Run a whole programme in simulated time with scripted members and print a summary."""
    import tempfile

    from flask_migrate import upgrade

    from config import config_for
    from ipt_groups.devtools.simulation import render, run

    create_app = current_app.extensions["ipt_groups.create_app"]

    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite:///{tmp}/simulation.sqlite3"
        app = create_app(config_for(), SQLALCHEMY_DATABASE_URI=url, SMS_BACKEND="console")
        with app.app_context():
            upgrade()
            click.echo(render(run(members, weeks, seed, step_minutes, track=track)))
