"""Users and roles: list, create, change role, reset password, deactivate and reactivate.

A generated password is flashed once (category ``secret``) and never stored in clear.
"""

from __future__ import annotations

from flask import flash, render_template
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from app.dashboard.access import viewer, viewer_of
from app.dashboard.admin.blueprint import bp, done, form_text, record, refused
from app.db import transaction
from app.errors import DomainError, InvalidError
from app.models import Role
from app.services import users

LIST = "admin.users_page"


@bp.route("/users")
def users_page() -> str:
    with transaction() as session:
        rows = users.user_rows(session)
        return render_template(
            "dashboard/admin/users.html", rows=rows, roles=list(Role), me=viewer().id, min=users.MIN_PASSWORD_LENGTH
        )


def show_once(name: str, password: str) -> None:
    """A generated password, flashed for the next page only (it rides in the signed session cookie until then)."""
    flash(f"Password of '{name}', shown once: {password}", "secret")


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise InvalidError(f"Choose a role: {', '.join(r.value for r in Role)}.") from None


@bp.post("/users")
def create_user() -> Response:
    name, typed = form_text("username"), form_text("password_mode") == "typed"
    try:
        role = _role(form_text("role"))
        password = form_text("password") if typed else users.new_password()
        with transaction(write=True) as session:
            users.create_user(session, name, role, password)
            record(session, "user_create", name, role=role.value, password_generated=not typed)
    except DomainError as exc:
        return refused(LIST, exc)
    if typed:
        return done(LIST, f"Created {role.value} '{name}' with the password you typed.")
    flash(f"Created {role.value} '{name}'.")
    show_once(name, password)
    return done(LIST)


@bp.post("/users/role")
def change_role() -> Response:
    name = form_text("username")
    try:
        role = _role(form_text("role"))
        with transaction(write=True) as session:
            users.set_role(session, name, role)
            record(session, "user_role_change", name, role=role.value)
    except DomainError as exc:
        return refused(LIST, exc)
    if name == viewer().username and role is Role.ENUMERATOR:
        logout_user()  # enumerators cannot use the dashboard
        return done("auth.login", "You are now an enumerator: use ODK Collect; the dashboard is closed to you.")
    if name == viewer().username and role is Role.MANAGER:
        return done("overview.index", "You are now a manager; the administration pages are closed to you.")
    return done(LIST, f"'{name}' is now a {role.value}.")


@bp.post("/users/password")
def reset_password() -> Response:
    name = form_text("username")
    try:
        with transaction(write=True) as session:
            user, password = users.reset_password(session, name)
            record(session, "user_password_reset", name)
            again = viewer_of(user) if user.id == viewer().id else None
    except DomainError as exc:
        return refused(LIST, exc)
    if again is not None:
        login_user(again)  # a new password ends every session, this one too unless it is renewed
    flash(f"New password for '{name}'; the old one and every session of theirs stopped working.")
    show_once(name, password)
    return done(LIST)


@bp.post("/users/deactivate")
def deactivate_user() -> Response:
    name = form_text("username")
    if name == viewer().username:
        return refused(LIST, InvalidError("You cannot deactivate your own account here: ask another admin."))
    try:
        with transaction(write=True) as session:
            users.deactivate(session, name)
            record(session, "user_deactivate", name)
    except DomainError as exc:
        return refused(LIST, exc)
    return done(LIST, f"Deactivated '{name}': their password, sessions and app-user token stopped working.")


@bp.post("/users/reactivate")
def reactivate_user() -> Response:
    name = form_text("username")
    try:
        with transaction(write=True) as session:
            password = users.reactivate(session, name)[1]
            record(session, "user_reactivate", name)
    except DomainError as exc:
        return refused(LIST, exc)
    flash(f"Reactivated '{name}' with a new password (and, for an enumerator, a new app-user token).")
    show_once(name, password)
    return done(LIST)
