"""Signing in and out: a phone number, then the code texted to it; or a link from the CLI. The answer
to a phone number is the same whether or not anyone has it, so the page reveals no one's number."""

from __future__ import annotations

import secrets

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from marshmallow import ValidationError

from ipt_groups.api.clock import now
from ipt_groups.extensions import db, limiter
from ipt_groups.signin import check_code, check_link, end_session, request_code, start_session
from ipt_groups.web.blueprint import bp
from ipt_groups.web.forms import CodeForm, PhoneForm
from ipt_groups.web.guard import safe_next

# One budget per address for every sign-in form: codes asked for, codes typed, links opened.
per_address = limiter.shared_limit(
    lambda: current_app.config["SIGNIN_RATE_LIMIT"],
    scope="signin",
    key_func=get_remote_address,
    methods=["POST"],
)
SENT = "If this number belongs to a facilitator or a coordinator, a code is on its way to it by text."
WRONG = "That code is not right, or it has expired. Check the text, or ask for a new code."


@bp.route("/signin", methods=["GET", "POST"])
@per_address
def signin():
    """Ask for a code by phone number."""
    if request.method != "POST":
        session["next"] = safe_next(request.args.get("next"), url_for("web.home"))
        return render_template("signin.html", errors={})
    try:
        phone = PhoneForm().load(request.form)["phone"]
    except ValidationError as exc:
        return render_template("signin.html", errors=exc.messages, phone=request.form.get("phone")), 422
    row = request_code(phone, f"web:{get_remote_address()}", now())
    db.session.commit()
    # The session cookie is signed, not encrypted: it holds the code's nonce, or random bytes of the same
    # shape when no code was made (an unknown number, or one asking too often), so it says neither.
    session["signin"] = row.nonce if row is not None else secrets.token_hex(16)
    flash(SENT, "info")
    return redirect(url_for("web.signin_code"), 303)


@bp.route("/signin/code", methods=["GET", "POST"])
@per_address
def signin_code():
    """Type the code that was texted."""
    if "signin" not in session:
        return redirect(url_for("web.signin"), 303)
    if request.method != "POST":
        return render_template("signin_code.html", errors={})
    try:
        code = CodeForm().load(request.form)["code"]
    except ValidationError as exc:
        return render_template("signin_code.html", errors=exc.messages), 422
    used = check_code(session["signin"], code, now())
    db.session.commit()
    if used is None:
        return render_template("signin_code.html", errors={"code": [WRONG]}), 422
    return _signed_in(used)


@bp.route("/signin/link/<token>", methods=["GET", "POST"])
@per_address
def signin_link(token):
    """A link made with `ipt signin-link`: opening it shows a button, so a link preview that fetches
    it does not use it up."""
    if request.method != "POST":
        return render_template("signin_link.html")
    used = check_link(token, now())
    db.session.commit()
    if used is None:
        flash("That sign-in link has been used or has expired. Ask for a code instead.", "error")
        return redirect(url_for("web.signin"), 303)
    return _signed_in(used)


def _signed_in(used):
    started = start_session(used, now())
    if started is None:
        db.session.commit()
        flash("This person may no longer sign in.", "error")
        return redirect(url_for("web.signin"), 303)
    _row, token = started
    db.session.commit()
    target = session.get("next") or url_for("web.home")
    session.clear()  # a new session: nothing carried over from before signing in (fixation)
    session["web"] = token
    return redirect(safe_next(target, url_for("web.home")), 303)


@bp.route("/signout", methods=["POST"])
def signout():
    """Sign out: this browser's session stops working at once."""
    end_session(session.get("web"), now())
    db.session.commit()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("web.signin"), 303)
