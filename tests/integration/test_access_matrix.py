"""Role-by-endpoint matrix, built from the app's URL map: a new endpoint is covered, or this test fails.

Every rule is put into one access class by its endpoint; each class says what each role gets. Allowed means
past authentication and authorisation: any answer but 401, 403, a redirect to the login page, or a 5xx (a 404
for a made-up id, a 400 for a missing CSRF token or argument, are fine). Anonymous requests get the login page
(pages) or a 401 (API, OpenRosa) and nothing else. Token URLs are the exception the protocols set: a bad app-user
key gets 403 (../shared/docs/openrosa.md: deliberately not 401, so that Collect does not prompt for a password)
and an unknown KoBo hook URL gets 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.dashboard.access import viewer_of
from app.db import transaction
from app.models import Role, User
from app.services import tokens
from tests.helpers import Factory, digest_header

ROLES = ("anonymous", Role.ENUMERATOR.value, Role.MANAGER.value, Role.ADMIN.value)
PUBLIC = "public"
# access class -> the roles allowed; the others are refused in the class's own way
CLASSES: dict[str, frozenset[str]] = {
    PUBLIC: frozenset(ROLES),
    "api": frozenset({"manager", "admin"}),
    "api_any_token": frozenset({"enumerator", "manager", "admin"}),
    "dashboard": frozenset({"manager", "admin"}),
    "dashboard_admin": frozenset({"admin"}),
    "openrosa": frozenset({"enumerator", "admin"}),
    "openrosa_key": frozenset({"enumerator", "admin"}),
    "hook_token": frozenset(),  # a KoBo hook's own secret, never a user's
}
EXACT = {  # endpoint -> class (method-specific entries win)
    ("pages.home", None): PUBLIC,
    ("health.healthz", None): PUBLIC,
    ("static", None): PUBLIC,
    ("auth.login", None): PUBLIC,
    ("auth.logout", None): PUBLIC,  # ends only the caller's own session, and needs its CSRF token
    ("api-docs.openapi_json", None): PUBLIC,
    ("api_v1.auth.Token", "POST"): PUBLIC,
    ("api_v1.auth.Token", "DELETE"): "api_any_token",
}
PREFIXES = (  # first match wins
    ("assets.", PUBLIC),
    ("api_v1_fallback.", PUBLIC),  # a JSON 404/405 problem for everyone
    ("api_v1.", "api"),
    ("admin.", "dashboard_admin"),
    ("overview.", "dashboard"),
    ("chains.", "dashboard"),
    ("fieldwork.", "dashboard"),
    ("exports.", "dashboard"),
    ("openrosa.", "openrosa"),
    ("openrosa_key.", "openrosa_key"),
    ("kobo.", "hook_token"),
)


def access_class(endpoint: str, method: str) -> str:
    exact = EXACT.get((endpoint, method)) or EXACT.get((endpoint, None))
    if exact:
        return exact
    for prefix, klass in PREFIXES:
        if endpoint.startswith(prefix):
            return klass
    raise AssertionError(f"Endpoint {endpoint} {method} has no access class: add it to test_access_matrix.py")


@dataclass
class Caller:
    role: str
    user: User | None
    password: str | None
    api_token: str | None
    key: str | None


SAMPLES: dict[str, object] = {"filename": "dashboard.css", "code": "NO-CHAIN", "rest": "nowhere"}
SAMPLES["instance_id"] = "uuid:nobody"
TOKEN_URLS = frozenset({"openrosa_key", "hook_token"})


def sample_path(rule: Rule, key: str | None) -> str:
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name == "token":
            values[name] = key or "not-a-token"
        elif name in SAMPLES:
            values[name] = SAMPLES[name]
        elif type(converter).__name__ in {"IntegerConverter", "NumberConverter"}:
            values[name] = 1
        else:
            values[name] = "x"
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", str(value))
        for prefix in ("int", "path", "string", "float", "uuid", "any"):
            path = path.replace(f"<{prefix}:{name}>", str(value))
    return path


def rules(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def callers(app: Flask, factory: Factory, odk: Path) -> dict[str, Caller]:
    published = factory.publish(odk / "forms/simple.xml")
    SAMPLES.update(form_id=published.form.form_id, version_pk=published.version.id)
    out = {"anonymous": Caller("anonymous", None, None, None, None)}
    for role in (Role.ENUMERATOR, Role.MANAGER, Role.ADMIN):
        made = factory.user(f"matrix_{role.value}", role)
        with app.app_context(), transaction(write=True) as session:
            user = session.scalars(select(User).where(User.username == made.username)).one()
            issued = tokens.issue(session, user)
            session.expunge(user)
        out[role.value] = Caller(role.value, user, made.password, issued.token, made.token)
    return out


def call(client: FlaskClient, caller: Caller, rule: Rule, method: str, klass: str) -> TestResponse:
    client.delete_cookie("session")
    path = sample_path(rule, caller.key if klass == "openrosa_key" else None)
    headers: dict[str, str] = {}
    if caller.user is not None and klass == "api":
        headers["Authorization"] = f"Bearer {caller.api_token}"
    if caller.user is not None and klass == "api_any_token":  # revokes the token it is sent with: a fresh one
        assert caller.password is not None
        issued = client.post("/api/v1/auth/token", json={"username": caller.user.username, "password": caller.password})
        assert issued.json is not None
        headers["Authorization"] = f"Bearer {issued.json['token']}"
    if caller.user is not None and klass in {"dashboard", "dashboard_admin", PUBLIC}:
        with client.session_transaction() as session:
            session["_user_id"] = viewer_of(caller.user).get_id()
            session["_fresh"] = True
    if caller.user is not None and klass == "openrosa":
        challenge = client.open(path, method=method).headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Digest"), (path, challenge)
        assert caller.password is not None
        headers["Authorization"] = digest_header(challenge, caller.user.username, caller.password, method, path)
    answer = client.open(path, method=method, headers=headers)
    answer.get_data()  # read streamed bodies to the end, so their generators finish inside the request
    answer.close()
    return answer


def refused(answer: TestResponse, klass: str, role: str) -> bool:
    location = answer.headers.get("Location", "")
    no_such_token = klass == "hook_token" or (klass in TOKEN_URLS and role == "anonymous")
    if no_such_token and answer.status_code in {404, 405}:
        return True
    return answer.status_code in {401, 403} or (answer.status_code in {302, 303} and "/login" in location)


def test_every_role_gets_exactly_what_it_should_from_every_endpoint(
    app: Flask, client: FlaskClient, callers: dict[str, Caller]
) -> None:
    checked = 0
    problems = []
    for rule, method in rules(app):
        klass = access_class(rule.endpoint, method)
        for role in ROLES:
            answer = call(client, callers[role], rule, method, klass)
            allowed = role in CLASSES[klass]
            what = f"{role:10} {method:6} {rule.rule} ({klass}) -> {answer.status_code}"
            if answer.status_code >= 500:
                problems.append(f"server error: {what}")
            elif allowed and refused(answer, klass, role):
                problems.append(f"wrongly refused: {what}")
            elif not allowed and not refused(answer, klass, role):
                problems.append(f"wrongly allowed: {what}")
            elif role == "anonymous" and not allowed and klass not in TOKEN_URLS:
                login_page = answer.status_code == 302 and answer.headers["Location"].startswith("/login")
                if not (answer.status_code == 401 or login_page):
                    problems.append(f"anonymous got more than a 401 or the login page: {what}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 4 * 40


def test_a_new_endpoint_without_an_access_class_fails_the_matrix() -> None:
    with pytest.raises(AssertionError, match="no access class"):
        access_class("reports.secret", "GET")
