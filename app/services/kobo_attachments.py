"""A KoBo record's files (photos, audio, the audit log), downloaded into the blob store by the pull sync.

A record lists its files in ``_attachments`` (../shared/docs/kobo.md §1.2); the answer names each one, and that
name is the attachment slot the form's binary question opens. Current KPI gives it as ``media_file_basename``; older
records only have ``filename``, whose last part KoBo cleaned (``Un_ete_au_Quebec_Canada-…`` for the answer
``Un été au Québec (Canada)-…``), so a file is matched to an answer by that name, by its ``question_xpath``, or by
the cleaned form of the answer. Current KPI serves a file at ``/api/v2/assets/{uid}/data/{_id}/attachments/{key}/``
(its ``download_url``), with the API token. Older records link to KoboCAT's ``/media/original?media_file=…``, often
on another host, where the token must not go: their file is fetched through that KPI path on the configured server,
built from the attachment's ``uid`` (or, before KPI gave attachments one, its numeric ``id``).

Files are written (fsynced) before the transaction that stores their record, under the caller's ``Claims``. A
file that cannot be fetched leaves its slot empty (shown as not received) and is reported; a later sync asks KoBo
for it again (``lacking``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import UnavailableError
from app.models import Attachment, KoboRecord, Submission
from app.services.blobs import BlobStore, Claims
from app.services.kobo_client import KoboApiError, KoboClient
from app.services.submissions import IncomingFile

DEFAULT_TYPE = "application/octet-stream"
UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a record, to fetch: the slot it fills, where KPI serves it, and its type."""

    name: str
    url: str  # on the configured server
    content_type: str


@dataclass
class Slots:
    """The attachment slots of the current version of a record we hold, by name."""

    received: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)


def _current_slots(form_pk: int, *columns: Any) -> Select[Any]:
    """``columns`` of the attachment slots of the current version of each record of the form."""
    return (
        select(*columns)
        .join(Submission, Submission.id == KoboRecord.submission_id)
        .join(Attachment, Attachment.version_id == Submission.current_version_id)
        .where(KoboRecord.form_pk == form_pk)
    )


def held(session: Session, form_pk: int, kobo_ids: list[int]) -> dict[object, Slots]:
    """The slots of each record we hold among ``kobo_ids`` (KoBo ``_id``s), received or still waiting."""
    if not kobo_ids:
        return {}
    query = _current_slots(form_pk, KoboRecord.kobo_id, Attachment.name, Attachment.sha256.is_not(None))
    out: dict[object, Slots] = {}
    for kobo_id, name, received in session.execute(query.where(KoboRecord.kobo_id.in_(kobo_ids))):
        slots = out.setdefault(kobo_id, Slots())
        (slots.received if received else slots.waiting).add(name)
    return out


def lacking(form_pk: int) -> Select[Any]:
    """Records we hold whose current version still waits for a file (a hook brought them, or a download failed)."""
    return (
        _current_slots(form_pk, KoboRecord.kobo_id)
        .where(KoboRecord.deleted_at.is_(None), Attachment.sha256.is_(None))
        .distinct()
    )


def _answers(value: Any) -> Iterator[str]:
    """Every string value of a record's answers, at any depth (repeats are lists of dicts)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _answers(item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not key.startswith("_"):
                yield from _answers(item)


def _cleaned(name: str) -> str:
    """A file name as KoBo stores it (Django's ``get_valid_filename`` after dropping accents)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return UNSAFE.sub("", ascii_name.strip().replace(" ", "_"))


def _name(item: Mapping[str, Any], record: Mapping[str, Any], answered: set[str], cleaned: dict[str, str]) -> str:
    """The answer that names this file, or '' if none does."""
    filename = item.get("filename")
    stored = filename.rsplit("/", 1)[-1] if isinstance(filename, str) else ""
    xpath = item.get("question_xpath")
    for candidate in (item.get("media_file_basename"), record.get(xpath) if isinstance(xpath, str) else None, stored):
        if isinstance(candidate, str) and candidate in answered:
            return candidate
    return cleaned.get(stored, "")


def remote_files(
    record: Mapping[str, Any], asset_uid: str, client: KoboClient, slots: Slots | None = None
) -> tuple[list[RemoteFile], list[str]]:
    """The files of a record that its answers name and that we do not hold yet; and a message for each file that
    cannot be fetched, or that a slot of ours waits for and KoBo does not list."""
    listed = record.get("_attachments")
    listed = listed if isinstance(listed, list) else []
    answered = set(_answers(record))
    cleaned = {_cleaned(name): name for name in answered}
    skip = slots.received if slots is not None else set()
    files: dict[str, RemoteFile] = {}
    problems: list[str] = []
    for item in listed:
        if not isinstance(item, dict) or item.get("is_deleted") is True:
            continue  # a file replaced or removed in KoBo
        name = _name(item, record, answered, cleaned)
        if not name or name in skip or name in files:
            continue
        url = _url(item, record.get("_id"), asset_uid, client)
        if url is None:
            problems.append(f"file {name}: KoBo gave no link on its API server to fetch it from")
            continue
        mimetype = item.get("mimetype")
        files[name] = RemoteFile(name, url, mimetype if isinstance(mimetype, str) and mimetype else DEFAULT_TYPE)
    waiting = slots.waiting if slots is not None else set()
    problems += [f"file {name}: not among the record's attachments in KoBo" for name in sorted(waiting - set(files))]
    return list(files.values()), problems


def _url(item: Mapping[str, Any], kobo_id: object, asset_uid: str, client: KoboClient) -> str | None:
    link = item.get("download_url")
    if isinstance(link, str) and "/api/v2/assets/" in link and client.on_server(link):
        return link
    key = item.get("uid") or item.get("id")  # current KPI: the attachment's uid; older records: its numeric id
    if isinstance(key, str | int) and not isinstance(key, bool) and isinstance(kobo_id, int):
        return f"/api/v2/assets/{quote(asset_uid, safe='')}/data/{kobo_id}/attachments/{quote(str(key), safe='')}/"
    return None


def fetch(
    client: KoboClient, blobs: BlobStore, claims: Claims, files: list[RemoteFile], max_bytes: int
) -> tuple[dict[str, IncomingFile], list[str]]:
    """Download ``files`` into the blob store: the files by slot name, and a message for each one that failed
    (the others still come)."""
    out: dict[str, IncomingFile] = {}
    problems: list[str] = []
    for remote in files:
        try:
            ref = blobs.put_chunks(functools.partial(client.download, remote.url, max_bytes=max_bytes), claims)
        except (KoboApiError, UnavailableError, OSError) as exc:  # KoBo, a file in use, the disk: this file only
            reason = exc.message if isinstance(exc, UnavailableError) else str(exc)
            problems.append(f"file {remote.name} not downloaded: {reason}")
            continue
        out[remote.name] = IncomingFile(ref.sha256, ref.size, remote.content_type)
    return out, problems
