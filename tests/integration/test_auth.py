"""Authentication and roles on the OpenRosa endpoints (../shared/docs/openrosa.md §8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import Authorization, WWWAuthenticate

from app.config import Settings
from app.db import transaction
from app.models import Role
from app.services import forms, users
from tests.helpers import Factory, digest_header, submit


def test_no_credentials_get_a_digest_challenge(client: FlaskClient) -> None:
    response = client.get("/formList")
    assert response.status_code == 401
    challenge = WWWAuthenticate.from_header(response.headers["WWW-Authenticate"])
    assert challenge is not None and challenge.type == "digest"
    assert challenge.parameters["realm"] == users.REALM
    assert challenge.parameters["qop"] == "auth"
    assert challenge.parameters["nonce"] and challenge.parameters["opaque"]
    assert b"<OpenRosaResponse" in response.data


@pytest.mark.parametrize("uri", ["/formList", "/submission"])
def test_digest_login_works_and_a_wrong_password_does_not(client: FlaskClient, factory: Factory, uri: str) -> None:
    user = factory.user()
    challenge = client.get(uri).headers["WWW-Authenticate"]
    good = digest_header(challenge, user.username, user.password, "GET", uri)
    assert client.get(uri, headers={"Authorization": good}).status_code in {200, 204}
    bad = digest_header(challenge, user.username, "not the password", "GET", uri)
    assert client.get(uri, headers={"Authorization": bad}).status_code == 401


def test_forged_nonce_is_refused(client: FlaskClient, factory: Factory) -> None:
    user = factory.user()
    challenge = client.get("/formList").headers["WWW-Authenticate"].replace('nonce="', 'nonce="00')
    header = digest_header(challenge, user.username, user.password, "GET", "/formList")
    assert client.get("/formList", headers={"Authorization": header}).status_code == 401


def test_basic_is_refused_over_http_and_accepted_over_https(client: FlaskClient, factory: Factory) -> None:
    user = factory.user()
    basic = {
        "Authorization": Authorization("basic", {"username": user.username, "password": user.password}).to_header()
    }
    over_http = client.get("/formList", headers=basic)
    assert over_http.status_code == 401
    assert b"only available over HTTPS" in over_http.data
    assert client.get("/formList", headers=basic, base_url="https://localhost").status_code == 200
    wrong = {"Authorization": Authorization("basic", {"username": user.username, "password": "nope"}).to_header()}
    assert client.get("/formList", headers=wrong, base_url="https://localhost").status_code == 401


def test_bad_or_revoked_token_is_403_not_401(client: FlaskClient, factory: Factory) -> None:
    assert client.get("/key/not-a-real-token/formList").status_code == 403
    user = factory.user()
    assert client.get(f"{user.prefix}/formList").status_code == 200
    with client.application.app_context(), transaction(write=True) as session:
        users.deactivate(session, user.username)
    response = client.get(f"{user.prefix}/formList")
    assert response.status_code == 403
    assert b"not valid any more" in response.data


def test_manager_may_not_collect(client: FlaskClient, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    manager = factory.user("mgr", Role.MANAGER)
    with client.application.app_context(), transaction(write=True) as session:
        token = users.ensure_token(users.get_user(session, "mgr"))
    assert manager.role is Role.MANAGER
    assert client.get(f"/key/{token}/formList").status_code == 403
    response = submit(client, f"/key/{token}", (odk / "instances/simple/one.xml").read_bytes())
    assert response.status_code == 403


def test_enumerator_sees_and_submits_only_assigned_forms(client: FlaskClient, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/withrepeat.xml")
    alice, bob = factory.user("alice"), factory.user("bob")
    with client.application.app_context(), transaction(write=True) as session:
        forms.assign(session, "withrepeat", ["alice"])
    assert b"withrepeat" in client.get(f"{alice.prefix}/formList").data
    bobs = client.get(f"{bob.prefix}/formList").data
    assert b"withrepeat" not in bobs and b"simple" in bobs
    instance = (odk / "instances/withrepeat/one.xml").read_bytes()
    refused = submit(client, bob.prefix, instance)
    assert refused.status_code == 403
    assert b"not assigned" in refused.data
    assert submit(client, alice.prefix, instance).status_code == 201
    assert client.get(f"{bob.prefix}/forms/withrepeat/versions/2.xml").status_code == 403


def test_admin_sees_every_open_form(client: FlaskClient, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/withrepeat.xml")
    factory.user("alice")
    with client.application.app_context(), transaction(write=True) as session:
        forms.assign(session, "withrepeat", ["alice"])
        admin = users.create_user(session, "boss", Role.ADMIN, "admin password 1")
        token = users.ensure_token(admin)
    listed = client.get(f"/key/{token}/formList").data
    assert b"simple" in listed and b"withrepeat" in listed


def test_digest_response_is_bound_to_the_url(client: FlaskClient, factory: Factory) -> None:
    user = factory.user()
    challenge = client.get("/formList").headers["WWW-Authenticate"]
    for_other_url = digest_header(challenge, user.username, user.password, "GET", "/submission")
    response = client.get("/formList", headers={"Authorization": for_other_url})
    assert response.status_code == 401
    assert b"another URL" in response.data
    with_query = digest_header(challenge, user.username, user.password, "GET", "/formList?formID=simple")
    assert client.get("/formList?formID=simple", headers={"Authorization": with_query}).status_code == 200


def test_expired_nonce_asks_again_with_stale(
    client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from app.api.openrosa import auth

    user = factory.user()
    challenge = client.get("/formList").headers["WWW-Authenticate"]
    header = digest_header(challenge, user.username, user.password, "GET", "/formList")
    assert client.get("/formList", headers={"Authorization": header}).status_code == 200
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + auth.NONCE_LIFETIME_S + 1)
    expired = client.get("/formList", headers={"Authorization": header})
    assert expired.status_code == 401
    assert "stale=TRUE" in expired.headers["WWW-Authenticate"]


def test_basic_works_behind_a_trusted_https_proxy_only(settings: Settings, factory: Factory) -> None:
    from dataclasses import replace

    from app import create_app
    from app.db import engine_of

    user = factory.user()
    basic = {
        "Authorization": Authorization("basic", {"username": user.username, "password": user.password}).to_header()
    }
    forwarded = {**basic, "X-Forwarded-Proto": "https"}
    direct = factory.app.test_client()
    assert direct.get("/formList", headers=forwarded).status_code == 401  # headers from anyone are not believed
    proxied_app = create_app(replace(settings, trusted_proxies=1))
    try:
        assert proxied_app.test_client().get("/formList", headers=forwarded).status_code == 200
    finally:
        engine_of(proxied_app).dispose()


def test_manager_preflight_is_refused(client: FlaskClient, factory: Factory) -> None:
    factory.user("mgr", Role.MANAGER)
    with client.application.app_context(), transaction(write=True) as session:
        token = users.ensure_token(users.get_user(session, "mgr"))
    assert client.head(f"/key/{token}/submission").status_code == 403
