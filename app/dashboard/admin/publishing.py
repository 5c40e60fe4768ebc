"""Publishing forms: upload an XLSForm or XForm with its media; the forms list with close, reopen and assignments.

A refused form is shown again with pyxform's problems listed by sheet and row, as ``flask forms publish`` reports
them; nothing is stored.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.dashboard.admin.blueprint import bp, done, form_text, record, refused
from app.db import transaction
from app.errors import DomainError, InvalidError
from app.models import FormState, Role
from app.services import forms, users
from app.services.blobs import BlobStore
from app.services.form_problems import Problem, form_problems

LIST = "admin.forms_page"


def _render(problems: list[Problem] | None = None, filename: str = "", status: int = 200) -> tuple[str, int]:
    with transaction() as session:
        rows = forms.list_forms(session)
        enumerators = [u.username for u in users.list_users(session) if u.role is Role.ENUMERATOR and u.active]
        page = render_template(
            "dashboard/admin/forms.html", rows=rows, enumerators=enumerators, problems=problems, filename=filename
        )
    return page, status


@bp.route("/forms")
def forms_page() -> tuple[str, int]:
    return _render()


def _basename(upload: FileStorage) -> str:
    return (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]


@bp.post("/forms")
def publish_form() -> Response | tuple[str, int]:
    upload = request.files.get("form")
    filename = _basename(upload) if upload is not None else ""
    if upload is None or not filename:
        return refused(LIST, InvalidError("Choose an XLSForm (.xlsx, .xls) or an XForm (.xml) to publish."))
    media = {_basename(f): f.read() for f in request.files.getlist("media") if _basename(f)}
    store: BlobStore = current_app.extensions["blobs"]
    try:
        with transaction(write=True) as session:
            result = forms.publish(session, store, filename, upload.read(), media)
            form_id, version = result.form.form_id, result.version.version or "(none)"
            if result.created:
                record(session, "form_publish", form_id, version=version, file=filename, media=sorted(media))
    except DomainError as exc:
        return _render(form_problems(exc.message, filename), filename, exc.status)
    headline = "Published" if result.created else "Already published, nothing changed:"
    messages = [f"{headline} form '{form_id}' version {version} from {filename}."]
    messages += [f"pyxform warning: {w}" for w in result.warnings]
    if result.missing_media:
        messages.append(f"Media still missing (publish again with them): {', '.join(result.missing_media)}")
    return done(LIST, *messages)


@bp.post("/forms/state")
def set_form_state() -> Response:
    form_id = form_text("form_id")
    try:
        state = FormState(form_text("state"))
        with transaction(write=True) as session:
            forms.set_state(session, form_id, state)
            record(session, "form_state_change", form_id, state=state.value)
    except ValueError:
        return refused(LIST, InvalidError("A form is either open or closed."))
    except DomainError as exc:
        return refused(LIST, exc)
    if state is FormState.CLOSED:
        return done(LIST, f"Closed '{form_id}': no longer listed in ODK Collect; new submissions are refused.")
    return done(LIST, f"Opened '{form_id}' again.")


@bp.post("/forms/assign")
def assign_form() -> Response:
    form_id, username, remove = form_text("form_id"), form_text("username"), form_text("action") == "remove"
    try:
        with transaction(write=True) as session:
            forms.assign(session, form_id, [username], remove=remove)
            record(session, "form_unassign" if remove else "form_assign", form_id, username=username)
    except DomainError as exc:
        return refused(LIST, exc)
    if remove:
        return done(LIST, f"'{username}' is no longer assigned '{form_id}'.")
    return done(LIST, f"Assigned '{form_id}' to '{username}'. A form with assignments is listed only to them.")
