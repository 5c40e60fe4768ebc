"""Publishing forms (XLSForm or XForm), their versions and media, and who may use them."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from app.ingest.xform import XFormError, read_xform
from app.ingest.xlsform import XLSFormError, convert_xlsform, is_xlsform
from app.models import Form, FormAssignment, FormMedia, FormState, FormVersion, Role, Submission, User
from app.services.blobs import BlobStore


@dataclass(frozen=True)
class Published:
    form: Form
    version: FormVersion
    created: bool  # False: this exact version was already published
    warnings: tuple[str, ...]
    missing_media: tuple[str, ...]  # declared by the form, not supplied yet


def _to_xform(filename: str, data: bytes) -> tuple[bytes, bytes | None, tuple[str, ...], dict[str, bytes]]:
    """(XForm bytes, source workbook or None, pyxform warnings, generated media)."""
    if is_xlsform(filename):
        try:
            converted = convert_xlsform(data, filename)
        except XLSFormError as exc:
            raise InvalidError(f"{filename}: {exc}") from exc
        generated = {"itemsets.csv": converted.itemsets_csv} if converted.itemsets_csv else {}
        return converted.xform, data, converted.warnings, generated
    if filename.lower().endswith(".xml"):
        return data, None, (), {}
    raise InvalidError(f"{filename}: publish an XLSForm (.xlsx, .xls) or an XForm (.xml).")


def publish(
    session: Session, blobs: BlobStore, filename: str, data: bytes, media: Mapping[str, bytes] | None = None
) -> Published:
    xform, source, warnings, generated = _to_xform(filename, data)
    try:
        info = read_xform(xform)
    except XFormError as exc:
        raise InvalidError(f"{filename}: {exc}") from exc
    supplied = {**generated, **(media or {})}
    undeclared = sorted(set(supplied) - set(info.media_names))
    if undeclared:
        declared = ", ".join(info.media_names) or "no media"
        raise InvalidError(f"{filename}: the form does not use {', '.join(undeclared)} (it references {declared}).")
    md5 = hashlib.md5(xform, usedforsecurity=False).hexdigest()

    form = session.scalar(select(Form).where(Form.form_id == info.form_id))
    if form is None:
        form = Form(form_id=info.form_id)
        session.add(form)
        session.flush()
    else:
        existing = session.scalar(
            select(FormVersion).where(FormVersion.form_pk == form.id, FormVersion.version == info.version)
        )
        if existing is not None:
            return _republish(existing, md5, supplied, blobs, warnings)

    version = FormVersion(
        form_pk=form.id,
        version=info.version,
        title=info.title,
        xml=xform,
        md5=md5,
        source_name=filename,
        source=source,
        binary_paths=list(info.binary_paths),
        media_names=list(info.media_names),
        encrypted=info.encrypted,
    )
    session.add(version)
    session.flush()
    carried = {m.name: m for m in (form.current_version.media if form.current_version else [])}
    for name in info.media_names:
        if name in supplied:
            _add_media(session, blobs, version, name, supplied[name])
        elif name in carried:  # a new version keeps the media of the previous one unless replaced
            old = carried[name]
            session.add(
                FormMedia(
                    form_version_id=version.id,
                    name=name,
                    sha256=old.sha256,
                    md5=old.md5,
                    size=old.size,
                    content_type=old.content_type,
                )
            )
    form.current_version = version
    session.flush()
    session.refresh(version, ["media"])
    present = {m.name for m in version.media}
    missing = tuple(n for n in info.media_names if n not in present)
    return Published(form, version, True, warnings, missing)


def _republish(
    existing: FormVersion, md5: str, supplied: Mapping[str, bytes], blobs: BlobStore, warnings: tuple[str, ...]
) -> Published:
    label = (
        f"'{existing.form.form_id}' version '{existing.version}'" if existing.version else f"'{existing.form.form_id}'"
    )
    if existing.md5 != md5:
        raise ConflictError(
            f"Form {label} is already published with different content. Give the changed form a new version "
            "(settings sheet, column version, e.g. 2026113001) and publish it again."
        )
    stored = {m.name: m.sha256 for m in existing.media}
    for name, data in supplied.items():
        if stored.get(name) not in (None, hashlib.sha256(data).hexdigest()):
            raise ConflictError(f"Form {label} already has a different {name}. Publish a new version to change media.")
    missing = tuple(n for n in existing.media_names if n not in stored and n not in supplied)
    if any(name not in stored for name in supplied):
        session = Session.object_session(existing)
        assert session is not None  # noqa: S101 - a loaded row always has its session
        for name, data in supplied.items():
            if name not in stored:
                _add_media(session, blobs, existing, name, data)
        return Published(existing.form, existing, True, warnings, missing)
    return Published(existing.form, existing, False, warnings, missing)


def _add_media(session: Session, blobs: BlobStore, version: FormVersion, name: str, data: bytes) -> None:
    ref = blobs.put_bytes(data)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    session.add(
        FormMedia(
            form_version_id=version.id,
            name=name,
            sha256=ref.sha256,
            md5=ref.md5,
            size=ref.size,
            content_type=content_type,
        )
    )


def get_form(session: Session, form_id: str) -> Form:
    form = session.scalar(select(Form).where(Form.form_id == form_id))
    if form is None:
        raise NotFoundError(f"There is no form with id '{form_id}' on this server.")
    return form


@dataclass(frozen=True)
class FormRow:
    form: Form
    versions: int
    submissions: int
    assigned: tuple[str, ...]


def list_forms(session: Session) -> list[FormRow]:
    versions = select(func.count()).where(FormVersion.form_pk == Form.id).scalar_subquery()
    submissions = select(func.count()).where(Submission.form_pk == Form.id).scalar_subquery()
    rows = session.execute(select(Form, versions, submissions).order_by(Form.form_id)).all()
    assigned: dict[int, list[str]] = {}
    for form_pk, username in session.execute(
        select(FormAssignment.form_pk, User.username).join(User).order_by(User.username)
    ):
        assigned.setdefault(form_pk, []).append(username)
    return [FormRow(f, v, s, tuple(assigned.get(f.id, ()))) for f, v, s in rows]


def set_state(session: Session, form_id: str, state: FormState) -> Form:
    form = get_form(session, form_id)
    form.state = state
    return form


def assign(session: Session, form_id: str, usernames: Sequence[str], *, remove: bool = False) -> Form:
    form = get_form(session, form_id)
    for name in usernames:
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            raise NotFoundError(f"There is no user named '{name}'.")
        if user.role is not Role.ENUMERATOR:
            raise InvalidError(f"'{name}' is a {user.role.value}; only enumerators are assigned forms.")
        current = session.get(FormAssignment, (form.id, user.id))
        if remove and current is not None:
            session.delete(current)
        elif not remove and current is None:
            session.add(FormAssignment(form_pk=form.id, user_id=user.id))
    session.flush()
    return form


# -- who may use which form --------------------------------------------------------------------------------


def _assignment_allows(user: User):  # type: ignore[no-untyped-def]
    """SQL condition: the form has no assignments, or one for this user."""
    assigned = select(FormAssignment.form_pk).where(FormAssignment.form_pk == Form.id)
    mine = assigned.where(FormAssignment.user_id == user.id)
    return ~exists(assigned) | exists(mine)


def usable_forms(session: Session, user: User, form_id: str | None = None) -> Sequence[Form]:
    """Open, published forms this user may download and fill, sorted by title as ODK Central does."""
    if user.role is Role.MANAGER:
        raise ForbiddenError("Programme managers do not collect data; sign in as an enumerator or an admin.")
    stmt = (
        select(Form)
        .join(FormVersion, Form.current_version_id == FormVersion.id)
        .where(Form.state == FormState.OPEN)
        .order_by(FormVersion.title, Form.form_id)
    )
    if form_id is not None:
        stmt = stmt.where(Form.form_id == form_id)
    if user.role is Role.ENUMERATOR:
        stmt = stmt.where(_assignment_allows(user))
    return session.scalars(stmt).all()


def check_may_use(session: Session, user: User, form: Form) -> None:
    if user.role is Role.ADMIN:
        return
    if user.role is not Role.ENUMERATOR:
        raise ForbiddenError("Programme managers do not collect data; sign in as an enumerator or an admin.")
    allowed = session.scalar(select(_assignment_allows(user)).where(Form.id == form.id))
    if not allowed:
        raise ForbiddenError(f"You are not assigned to form '{form.form_id}'. Ask an admin to assign it to you.")
