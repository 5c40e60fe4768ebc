"""Signing in and out of the dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask import session as session_
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.dashboard.access import csrf, viewer_of
from app.db import transaction
from app.models import Role
from app.services import audit, tokens

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL or ``//host`` (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("overview.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("dashboard/login.html", form=form), status
    name, ip = form.username.data, request.remote_addr
    outcome: str | None
    with transaction(write=True) as session:
        wait = audit.login_blocked_for(session, name, ip)
        if wait:
            found, outcome = None, "throttled"
        else:
            user = tokens.check_login(session, name, form.password.data)
            found = viewer_of(user) if user is not None else None
            outcome = "login" if found and found.role is not Role.ENUMERATOR else "login_refused" if found else None
            who = audit.Actor(found.id if found else None, name)
            audit.record(session, outcome or audit.LOGIN_FAILED, who, ip=ip, detail={"via": "dashboard"})
    if outcome == "throttled":
        form.form_errors.append(f"Too many failed sign-ins: try again in {_minutes(wait)}.")
        page = render_template("dashboard/login.html", form=form)
        return Response(page, 429, headers={"Retry-After": str(wait)}, mimetype="text/html")
    if outcome == "login_refused":
        form.form_errors.append("Enumerators send data through ODK Collect; the dashboard is for managers.")
        return render_template("dashboard/login.html", form=form), 403
    if outcome == "login" and found is not None:
        session_.clear()  # a new session on sign-in: nothing planted before it survives
        login_user(found)
        return redirect(_safe_next(request.args.get("next")))
    form.form_errors.append("The user name or the password is wrong, or the user is deactivated.")
    return render_template("dashboard/login.html", form=form), 401


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    csrf.protect()
    if current_user.is_authenticated:
        with transaction(write=True) as session:
            audit.record(session, "logout", audit.Actor(current_user.id, current_user.username), ip=request.remote_addr)
    logout_user()
    session_.clear()
    return redirect(url_for("auth.login"))
