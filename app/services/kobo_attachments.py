"""A KoBo record's files (photos, audio, the audit log), downloaded into the blob store by the pull sync.

A record lists its files in ``_attachments`` (../shared/docs/kobo.md §1.2); the answer names each one by its
``media_file_basename``, which is also the name of the attachment slot the form's binary question opens. Current
KPI serves a file at ``/api/v2/assets/{uid}/data/{_id}/attachments/{attachment uid}/`` (its ``download_url``), with
the API token. Older payloads link to KoboCAT's ``/media/original?media_file=…``, often on another host, where the
token must not go: their file is fetched through that KPI path on the configured server, built from the
attachment's ``uid`` (or, in records before KPI gave attachments one, its numeric ``id``).

Files are written (fsynced) before the page's transaction, under the caller's ``Claims``, so a page that does not
commit leaves none behind. A file that cannot be fetched leaves its slot empty (shown as not received) and is
reported; the next sync asks KoBo for it again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.services.blobs import BlobStore, Claims
from app.services.kobo_client import KoboApiError, KoboClient
from app.services.submissions import IncomingFile

DEFAULT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class RemoteFile:
    name: str  # as the record's answer names it: the attachment slot it fills
    url: str  # on the configured server
    content_type: str


@dataclass
class Fetched:
    """What one record's downloads gave: files by slot name, and a message for each file that failed."""

    files: dict[str, IncomingFile]
    problems: list[str]


def _answers(value: Any) -> Iterator[str]:
    """Every string value of a record's answers, at any depth (repeats are lists of dicts)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _answers(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("_"):
                yield from _answers(item)


def _name(item: Mapping[str, Any]) -> str | None:
    name = item.get("media_file_basename")
    if not isinstance(name, str) or not name:
        filename = item.get("filename")
        name = filename.rsplit("/", 1)[-1] if isinstance(filename, str) else None
    return name or None


def remote_files(
    record: Mapping[str, Any], asset_uid: str, client: KoboClient, *, skip: Collection[str] = ()
) -> tuple[list[RemoteFile], list[str]]:
    """The files a record lists that its answers refer to, except ``skip`` (held already); and why any other
    listed file cannot be fetched."""
    listed = record.get("_attachments")
    if not isinstance(listed, list):
        return [], []
    answered = set(_answers(dict(record)))
    files: dict[str, RemoteFile] = {}
    problems: list[str] = []
    for item in listed:
        if not isinstance(item, dict) or item.get("is_deleted") is True:
            continue
        name = _name(item)
        if name is None or name not in answered or name in skip or name in files:
            continue
        url = _url(item, record.get("_id"), asset_uid, client)
        if url is None:
            problems.append(f"file {name}: KoBo gave no link on its API server to fetch it from")
            continue
        mimetype = item.get("mimetype")
        files[name] = RemoteFile(name, url, mimetype if isinstance(mimetype, str) and mimetype else DEFAULT_TYPE)
    return list(files.values()), problems


def _url(item: Mapping[str, Any], kobo_id: object, asset_uid: str, client: KoboClient) -> str | None:
    link = item.get("download_url")
    if isinstance(link, str) and client.on_server(link):
        return link
    key = item.get("uid") or item.get("id")  # current KPI: the attachment's uid; older records: its numeric id
    if isinstance(key, str | int) and not isinstance(key, bool) and isinstance(kobo_id, int):
        return f"/api/v2/assets/{asset_uid}/data/{kobo_id}/attachments/{key}/"
    return None


def fetch(client: KoboClient, blobs: BlobStore, claims: Claims, files: list[RemoteFile], max_bytes: int) -> Fetched:
    """Download ``files`` into the blob store; a failure is reported and the other files still come."""
    out = Fetched({}, [])
    for remote in files:

        def download(write: Callable[[bytes], object], url: str = remote.url) -> int:
            return client.download(url, write, max_bytes)

        try:
            ref = blobs.put_chunks(download, claims)
        except KoboApiError as exc:
            out.problems.append(f"file {remote.name} not downloaded: {exc}")
            continue
        out.files[remote.name] = IncomingFile(ref.sha256, ref.size, remote.content_type)
    return out
