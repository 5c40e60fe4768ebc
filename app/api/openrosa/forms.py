"""Form List API, form download, manifest and media download (../shared/docs/openrosa.md §2-§4)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET  # building XML only
from collections.abc import Sequence
from typing import Any

from flask import Response, current_app, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from app.api.openrosa.auth import current_user, login_required
from app.api.openrosa.blueprint import blueprint
from app.api.openrosa.responses import xml_response
from app.db import transaction
from app.models import Form, FormMedia, FormVersion
from app.services import forms, lists
from app.services.blobs import BlobStore

FORMLIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"


def external_url(endpoint: str, **values: Any) -> str:
    """Absolute URL; PUBLIC_BASE_URL wins over the Host header when the server sits behind a proxy."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return str(base) + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _truthy(name: str) -> bool:
    return request.args.get(name, "").lower() in {"true", "1", "yes"}


def _entry(parent: ET.Element, form: Form, version: FormVersion, verbose: bool) -> None:
    xform = ET.SubElement(parent, "xform")
    for tag, text in (
        ("formID", form.form_id),
        ("name", version.title or form.form_id),
        ("version", version.version),
        ("hash", f"md5:{version.md5}"),
    ):
        ET.SubElement(xform, tag).text = text
    if verbose:
        ET.SubElement(xform, "descriptionText").text = version.title
    ET.SubElement(xform, "downloadUrl").text = external_url(
        ".form_download", form_id=form.form_id, version_pk=version.id
    )
    if version.media_names:
        ET.SubElement(xform, "manifestUrl").text = external_url(
            ".manifest", form_id=form.form_id, version_pk=version.id
        )


def _all_versions(session: Session, usable: Sequence[Form]) -> list[tuple[Form, FormVersion]]:
    by_pk = {f.id: f for f in usable}
    versions = session.scalars(
        select(FormVersion).where(FormVersion.form_pk.in_(by_pk)).order_by(FormVersion.form_pk, FormVersion.id)
    ).all()
    return [(by_pk[v.form_pk], v) for v in versions]


@blueprint.route("/formList", methods=["GET", "HEAD"])
@login_required
def form_list() -> Response:
    if request.method == "HEAD":  # Enketo probes auth with HEAD (KoBo answers 204)
        return Response(status=204)
    with transaction() as session:
        usable = forms.usable_forms(session, current_user(), request.args.get("formID") or None)
        if _truthy("listAllVersions"):
            entries = _all_versions(session, usable)
        else:
            entries = [(f, f.current_version) for f in usable if f.current_version is not None]
        root = ET.Element("xforms", {"xmlns": FORMLIST_NS})
        for form, version in entries:
            _entry(root, form, version, _truthy("verbose"))
    return xml_response(root)


def _usable_version(form_id: str, version_pk: int) -> FormVersion:
    with transaction() as session:
        version = session.get(FormVersion, version_pk)
        if version is None or version.form.form_id != form_id:
            raise NotFound(f"There is no such version of form '{form_id}'.")
        forms.check_may_use(session, current_user(), version.form)
        session.refresh(version, ["media"])
    return version


@blueprint.route("/forms/<form_id>/versions/<int:version_pk>.xml")
@login_required
def form_download(form_id: str, version_pk: int) -> Response:
    version = _usable_version(form_id, version_pk)
    response = Response(version.xml, content_type="text/xml; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{form_id}.xml"'
    return response


@blueprint.route("/forms/<form_id>/versions/<int:version_pk>/manifest", methods=["GET", "HEAD"])
@login_required
def manifest(form_id: str, version_pk: int) -> Response:
    version = _usable_version(form_id, version_pk)
    files = {m.name: m.md5 for m in version.media}
    with transaction() as session:
        for name in version.media_names:
            if name not in files and lists.is_generated(name):
                files[name] = hashlib.md5(lists.generate(session, name), usedforsecurity=False).hexdigest()
    root = ET.Element("manifest", {"xmlns": MANIFEST_NS})
    for name in sorted(files):
        entry = ET.SubElement(root, "mediaFile")
        ET.SubElement(entry, "filename").text = name
        ET.SubElement(entry, "hash").text = f"md5:{files[name]}"
        ET.SubElement(entry, "downloadUrl").text = external_url(
            ".media", form_id=form_id, version_pk=version_pk, name=name
        )
    return xml_response(root)


@blueprint.route("/forms/<form_id>/versions/<int:version_pk>/media/<name>")
@login_required
def media(form_id: str, version_pk: int, name: str) -> Response:
    version = _usable_version(form_id, version_pk)
    item: FormMedia | None = next((m for m in version.media if m.name == name), None)
    if item is None and name in version.media_names and lists.is_generated(name):
        with transaction() as session:
            data = lists.generate(session, name)
        return Response(data, content_type="text/csv; charset=utf-8")
    if item is None:
        raise NotFound(f"Form '{form_id}' has no media file '{name}'.")
    store: BlobStore = current_app.extensions["blobs"]
    return send_file(store.path(item.sha256), mimetype=item.content_type, download_name=item.name, etag=item.md5)
