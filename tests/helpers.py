"""Helpers that build real rows through the services, as the CLI and the HTTP layer do."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.test import TestResponse

from app.db import transaction
from app.ingest.catalogue import read_catalogue
from app.models import Role
from app.services import forms, rounds, users
from app.services.blobs import BlobStore
from app.services.catalogue import load_catalogue
from app.vocab import RoundKind

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class MadeUser:
    username: str
    password: str
    token: str | None
    role: Role

    @property
    def prefix(self) -> str:
        """URL prefix that authenticates as this user (app-user token)."""
        assert self.token is not None
        return f"/key/{self.token}"


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def user(self, name: str = "enum1", role: Role = Role.ENUMERATOR, password: str = PASSWORD) -> MadeUser:
        with self.app.app_context(), transaction(write=True) as session:
            user = users.create_user(session, name, role, password)
            token = users.ensure_token(user)
        return MadeUser(name, password, token, role)

    def publish(self, path: Path, media: Mapping[str, bytes] | None = None, name: str | None = None) -> forms.Published:
        return self.publish_bytes(name or path.name, path.read_bytes(), media)

    def publish_bytes(self, name: str, data: bytes, media: Mapping[str, bytes] | None = None) -> forms.Published:
        store: BlobStore = self.app.extensions["blobs"]
        with self.app.app_context(), transaction(write=True) as session:
            return forms.publish(session, store, name, data, media)


def prepare_survey(app: Flask, factory: Factory) -> None:
    """What `make run` prepares: the catalogue, the baseline round R0 (without dates) and our MSE survey."""
    root = Path(__file__).resolve().parent.parent
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((root / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, name="Baseline")
    factory.publish(root / "forms" / "mse_survey.xlsx")


def submit(
    client: FlaskClient,
    prefix: str,
    xml: bytes,
    files: Mapping[str, bytes] | None = None,
    *,
    extra: Mapping[str, str] | None = None,
    **kwargs: object,
) -> TestResponse:
    data: dict[str, object] = {"xml_submission_file": (io.BytesIO(xml), "instance.xml", "text/xml")}
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "application/octet-stream")
    data.update(extra or {})
    return client.post(f"{prefix}/submission", data=data, content_type="multipart/form-data", **kwargs)


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_header(challenge: str, username: str, password: str, method: str, uri: str) -> str:
    """RFC 2617 client side, written out here independently of the server's implementation."""
    parsed = WWWAuthenticate.from_header(challenge)
    assert parsed is not None
    realm, nonce, opaque = parsed.parameters["realm"], parsed.parameters["nonce"], parsed.parameters["opaque"]
    cnonce, nc = "0a4f113b", "00000001"
    ha1, ha2 = md5_hex(f"{username}:{realm}:{password}"), md5_hex(f"{method}:{uri}")
    response = md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc}, '
        f'cnonce="{cnonce}", response="{response}", opaque="{opaque}", algorithm=MD5'
    )
