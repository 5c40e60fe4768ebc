"""The ingest ceiling for bench/ingest.py: the least a durable OpenRosa submission endpoint can do in Flask.

Per POST it parses the multipart body, parses the XML with defusedxml, and inserts the XML bytes into an
SQLite table (WAL, ``synchronous=FULL``, one commit per request, UNIQUE instance id). No auth, no ORM, no
form lookup. Serve it with ``gunicorn --pythonpath bench bare_app:app``; ``BARE_DB_PATH`` names the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring
from flask import Flask, Response, request

XML_PART = "xml_submission_file"
BUSY_TIMEOUT_S = 30.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS submission (
    id INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL UNIQUE,
    xml BLOB NOT NULL
)
"""
OK_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">'
    b'<message nature="">Full submission upload was successful!</message></OpenRosaResponse>'
)

_local = threading.local()  # one connection per worker thread, opened after gunicorn forks


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(SCHEMA)
    return conn


def _db() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "connection", None)
    if conn is None:
        conn = _local.connection = _connect(os.environ["BARE_DB_PATH"])
    return conn


def _instance_id(root: Element) -> str | None:
    for node in root.iter():
        if node.tag.rsplit("}", 1)[-1] == "instanceID" and node.text and node.text.strip():
            return node.text.strip()
    return None


def _insert(conn: sqlite3.Connection, instance_id: str, xml: bytes) -> bool:
    """One write transaction, committed (and so fsynced) before the response. False: a duplicate id."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO submission (instance_id, xml) VALUES (?, ?)", (instance_id, xml))
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK")
        return False
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


def _text(body: str, status: int) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def home() -> str:
        return "bare ingest ceiling"

    @app.post("/submission")
    def submission() -> Response:
        part = request.files.get(XML_PART)
        if part is None:
            return _text(f"missing {XML_PART}", 400)
        xml = part.stream.read()
        instance_id = _instance_id(fromstring(xml))
        if instance_id is None:
            return _text("no instanceID", 400)
        if not _insert(_db(), instance_id, xml):
            return _text("duplicate instanceID", 409)
        return Response(OK_BODY, status=201, content_type="text/xml; charset=utf-8")

    return app


app = create_app()
