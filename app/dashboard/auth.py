"""Signing in and out of the dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.dashboard.access import csrf, viewer_of
from app.db import transaction
from app.models import Role
from app.services import tokens

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
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if form.validate_on_submit():
        with transaction() as session:
            user = tokens.check_login(session, form.username.data, form.password.data)
            found = viewer_of(user) if user is not None else None
        if found is not None and found.role is Role.ENUMERATOR:
            form.form_errors.append("Enumerators send data through ODK Collect; the dashboard is for managers.")
            return render_template("dashboard/login.html", form=form), 403
        if found is not None:
            login_user(found)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("The user name or the password is wrong, or the user is deactivated.")
        return render_template("dashboard/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("dashboard/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    csrf.protect()
    logout_user()
    return redirect(url_for("auth.login"))
