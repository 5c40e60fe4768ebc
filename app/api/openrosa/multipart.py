"""Reading a submission's multipart body with python-multipart, streaming file parts to temporary files.

werkzeug's own form parser compiles a regular expression for every new boundary, which cost more CPU than the
rest of a typical submission; python-multipart is a streaming state machine. The limits are the app's:
MAX_CONTENT_LENGTH (enforced by the request stream, with Content-Length or chunked), MAX_FORM_PARTS and
MAX_FORM_MEMORY_SIZE for text fields. Malformed bodies are a 400, never a 500. Headers are parsed with
python-multipart's parser too (RFC 7578: no RFC 2231 ``name*=`` forms; names lower-cased, values as raw bytes
that this module decodes), at a quarter of werkzeug's cost.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from flask import current_app, request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

CHUNK = 64 * 1024
SPOOL_BYTES = 512 * 1024  # parts up to this size stay in memory, larger ones go to a temporary file


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    body: IO[bytes]  # rewound, ready to read


@dataclass
class Body:
    parts: list[Part] = field(default_factory=list)

    def first(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Collector:
    def __init__(self, max_parts: int, max_field_bytes: int) -> None:
        self.body = Body()
        self.max_parts, self.max_field_bytes = max_parts, max_field_bytes
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._current: Part | None = None

    def on_part_begin(self) -> None:
        self._headers = {}
        if len(self.body.parts) >= self.max_parts:
            raise RequestEntityTooLarge("The submission has too many parts.")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise BadRequest("A multipart part has no name.")
        content_type = _decode(self._headers.get(b"content-type", b"")) or "application/octet-stream"
        raw_filename = options.get(b"filename")
        filename = None if raw_filename is None else _decode(raw_filename)
        limit = SPOOL_BYTES if filename is not None else self.max_field_bytes
        spool = tempfile.SpooledTemporaryFile(max_size=limit)  # noqa: SIM115 - closed by parse_body
        self._current = Part(_decode(options[b"name"]), filename, content_type, spool)
        self.body.parts.append(self._current)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        assert self._current is not None  # noqa: S101 - the parser calls on_headers_finished first
        part = self._current
        part.body.write(data[start:end])
        if part.filename is None and part.body.tell() > self.max_field_bytes:
            raise RequestEntityTooLarge("A text field of the submission is too large.")

    def on_part_end(self) -> None:
        if self._current is not None:
            self._current.body.seek(0)
        self._current = None


CALLBACKS = tuple(name for name in dir(_Collector) if name.startswith("on_"))


@contextmanager
def parse_body() -> Iterator[Body]:
    """The request's multipart parts; their temporary files are closed when the block ends."""
    mimetype, params = parse_options_header(request.headers.get("Content-Type", "").encode("latin-1"))
    if mimetype != b"multipart/form-data":
        raise BadRequest("A submission is a multipart/form-data POST with an xml_submission_file part.")
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequest("The multipart body has no boundary.")
    collector = _Collector(int(current_app.config["MAX_FORM_PARTS"]), int(current_app.config["MAX_FORM_MEMORY_SIZE"]))
    callbacks = {name: getattr(collector, name) for name in CALLBACKS}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        stream = request.stream  # raises 413 at once when Content-Length is over the limit
        while chunk := stream.read(CHUNK):
            parser.write(chunk)
        parser.finalize()
        if not collector.body.parts:
            raise BadRequest("The multipart body is empty or malformed.")
        yield collector.body
    except MultipartParseError as exc:
        raise BadRequest(f"The multipart body is malformed: {exc}") from exc
    finally:
        for part in collector.body.parts:
            part.body.close()
