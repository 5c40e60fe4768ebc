"""The administration pages through Flask's test client: roles, CSRF, users, forms, catalogue, jobs."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from app.db import transaction
from app.models import Form, FormState, IndicatorMark, Role, User, ValueChain
from app.services import audit, tokens
from tests.conftest import ROOT
from tests.helpers import PASSWORD, Factory

PAGES = ["/dashboard/admin/", "/dashboard/admin/users", "/dashboard/admin/forms", "/dashboard/admin/catalogue"]
PAGES += ["/dashboard/admin/jobs"]
POSTS = [
    "/dashboard/admin/users",
    "/dashboard/admin/users/role",
    "/dashboard/admin/forms",
    "/dashboard/admin/jobs/recompute",
]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A test client signed in through the login form, posting with the page's CSRF token."""

    def __init__(self, app: Flask, username: str, password: str = PASSWORD) -> None:
        self.client: FlaskClient = app.test_client()
        login = self.client.get("/login").get_data(as_text=True)
        answer = self.client.post(
            "/login", data={"csrf_token": self.token(login), "username": username, "password": password}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)

    @staticmethod
    def token(page: str) -> str:
        found = CSRF.search(page)
        assert found is not None
        return found.group(1)

    def get(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer.get_data(as_text=True)

    def post(self, path: str, **data: object) -> str:
        """Post as the page would, follow the redirect, and return the page shown after it."""
        token = self.token(self.get("/dashboard/admin/"))
        answer = self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:2000])
        return html.unescape(answer.get_data(as_text=True))

    def post_raw(self, path: str, **data: object) -> tuple[int, str]:
        token = self.token(self.get("/dashboard/admin/"))
        answer = self.client.post(path, data={"csrf_token": token, **data}, content_type="multipart/form-data")
        return answer.status_code, html.unescape(answer.get_data(as_text=True))


@pytest.fixture
def admin(app: Flask, factory: Factory) -> Browser:
    factory.user("boss", Role.ADMIN)
    return Browser(app, "boss")


def flashes(page: str, category: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'class="flash flash-{category}"[^>]*>(.*?)</p>', page, re.DOTALL)]


def test_managers_get_403_and_strangers_the_login_page(app: Flask, factory: Factory) -> None:
    factory.user("kofi", Role.MANAGER)
    manager = Browser(app, "kofi")
    for path in PAGES:
        answer = manager.client.get(path)
        assert answer.status_code == 403, path
        assert "Only administrators" in answer.get_data(as_text=True)
    for path in POSTS:
        assert manager.client.post(path, data={"username": "x"}).status_code == 403, path
    stranger = app.test_client()
    for path in PAGES:
        answer = stranger.get(path)
        assert answer.status_code == 302 and "/login?next=" in answer.headers["Location"]


def test_every_admin_page_opens_and_the_index_links_to_all(admin: Browser) -> None:
    index = admin.get("/dashboard/admin/")
    for path in PAGES[1:]:
        assert f'href="{path}' in index, path
        admin.get(path)


def test_a_post_without_the_csrf_token_is_refused(admin: Browser, app: Flask) -> None:
    answer = admin.client.post("/dashboard/admin/users", data={"username": "x1", "role": "manager"})
    assert answer.status_code == 400
    with app.app_context(), transaction() as session:
        assert session.scalar(select(User).where(User.username == "x1")) is None


def test_creating_users_shows_a_generated_password_once(admin: Browser, app: Flask) -> None:
    page = admin.post("/dashboard/admin/users", username="amina", role="enumerator", password_mode="generated")
    secret = flashes(page, "secret")
    assert len(secret) == 1
    password = secret[0].rsplit(": ", 1)[1]
    with app.app_context(), transaction() as session:
        assert tokens.check_login(session, "amina", password) is not None
        assert session.scalar(select(User.role).where(User.username == "amina")) is Role.ENUMERATOR
    assert password not in admin.get("/dashboard/admin/users")  # once: not on the next page
    page = admin.post(
        "/dashboard/admin/users", username="kofi", role="manager", password_mode="typed", password="x" * 12
    )
    assert not flashes(page, "secret") and "with the password you typed" in page
    Browser(app, "kofi", "x" * 12)  # signs in


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"username": "boss", "role": "manager"}, "already exists"),
        ({"username": "shorty", "role": "manager", "password_mode": "typed", "password": "short"}, "at least 10"),
        ({"username": "empty", "role": "manager", "password_mode": "typed", "password": ""}, "at least 10"),
        ({"username": "bad name", "role": "manager"}, "letters, digits"),
        ({"username": "who", "role": "king"}, "Choose a role"),
    ],
)
def test_bad_new_users_are_refused_with_a_reason(
    admin: Browser, app: Flask, fields: dict[str, str], reason: str
) -> None:
    page = admin.post("/dashboard/admin/users", **{"password_mode": "generated", **fields})
    assert any(reason in m for m in flashes(page, "error")), flashes(page, "error")
    with app.app_context(), transaction() as session:
        same_name = session.scalars(select(User.role).where(User.username == fields["username"])).all()
    assert same_name == ([Role.ADMIN] if fields["username"] == "boss" else [])


def test_the_last_admin_cannot_demote_or_deactivate_themselves(admin: Browser, app: Flask, factory: Factory) -> None:
    page = admin.post("/dashboard/admin/users/role", username="boss", role="manager")
    assert any("last active admin" in m for m in flashes(page, "error"))
    page = admin.post("/dashboard/admin/users/deactivate", username="boss")
    assert any("your own account" in m for m in flashes(page, "error"))
    factory.user("deputy", Role.ADMIN)
    page = admin.post("/dashboard/admin/users/role", username="boss", role="manager")
    assert "You are now a manager" in page  # on the overview: admin pages are closed to them now
    assert admin.client.get("/dashboard/admin/").status_code == 403


def test_role_change_deactivate_reactivate_and_reset(admin: Browser, app: Flask, factory: Factory) -> None:
    factory.user("amina", Role.ENUMERATOR)
    page = admin.post("/dashboard/admin/users/role", username="amina", role="manager")
    assert "'amina' is now a manager" in page
    page = admin.post("/dashboard/admin/users/deactivate", username="amina")
    assert "Deactivated 'amina'" in page
    with app.app_context(), transaction() as session:
        assert not session.scalar(select(User.active).where(User.username == "amina"))
    page = admin.post("/dashboard/admin/users/reactivate", username="amina")
    password = flashes(page, "secret")[0].rsplit(": ", 1)[1]
    Browser(app, "amina", password)
    page = admin.post("/dashboard/admin/users/password", username="amina")
    new = flashes(page, "secret")[0].rsplit(": ", 1)[1]
    assert new != password
    Browser(app, "amina", new)
    page = admin.post("/dashboard/admin/users/password", username="boss")  # their own: the session carries on
    mine = flashes(page, "secret")[0].rsplit(": ", 1)[1]
    admin.get("/dashboard/admin/users")
    Browser(app, "boss", mine)
    page = admin.post("/dashboard/admin/users/deactivate", username="ghost")
    assert any("no user named 'ghost'" in m for m in flashes(page, "error"))


def test_the_collect_page_shows_the_token_url_and_the_qr_code(admin: Browser, app: Flask, factory: Factory) -> None:
    made = factory.user("amina", Role.ENUMERATOR)
    page = html.unescape(admin.get("/dashboard/admin/users/amina/collect"))
    assert f"http://localhost/key/{made.token}" in page
    assert "<svg" in page and "grants submission rights" in page
    page = admin.post("/dashboard/admin/users/amina/collect/token")
    assert made.token is not None and made.token not in page and "New token" in page
    assert app.test_client().get(made.prefix + "/formList").status_code in {401, 403}
    factory.user("kofi", Role.MANAGER)
    page = admin.post("/dashboard/admin/users/kofi/collect/token")
    assert any("QR codes are for enumerators" in m for m in flashes(page, "error"))


def xlsform(form_id: str, *rows: tuple[str, str, str]) -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    for row in rows:
        survey.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([form_id, "1", f"Form {form_id}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_publishing_lists_pyxform_problems_then_the_form(admin: Browser, app: Flask) -> None:
    bad = xlsform("adm_form", ("text", "a", "A"), ("integer", "a", "again"))
    status, page = admin.post_raw("/dashboard/admin/forms", form=(io.BytesIO(bad), "adm.xlsx"))
    assert status == 400
    problems = re.findall(r"<tr><td>(.*?)</td><td class=\"num\">(.*?)</td><td>(.*?)</td></tr>", page)
    assert [(sheet, row) for sheet, row, _ in problems] == [("survey", "3")]
    assert "'name' value 'a' is invalid" in problems[0][2]
    with app.app_context(), transaction() as session:
        assert session.scalar(select(Form).where(Form.form_id == "adm_form")) is None
    good = xlsform("adm_form", ("text", "a", "A"), ("integer", "b", "B"))
    page = admin.post("/dashboard/admin/forms", form=(io.BytesIO(good), "adm.xlsx"))
    assert "Published form 'adm_form' version 1 from adm.xlsx" in page
    assert 'data-form="adm_form"' in page
    page = admin.post("/dashboard/admin/forms/state", form_id="adm_form", state="closed")
    with app.app_context(), transaction() as session:
        assert session.scalar(select(Form.state).where(Form.form_id == "adm_form")) is FormState.CLOSED
    page = admin.post("/dashboard/admin/forms/state", form_id="adm_form", state="open")
    assert "Opened 'adm_form'" in page
    page = admin.post("/dashboard/admin/forms", form=(io.BytesIO(b""), ""))
    assert any("Choose an XLSForm" in m for m in flashes(page, "error"))
    status, page = admin.post_raw("/dashboard/admin/forms", form=(io.BytesIO(b"hello"), "notes.txt"))
    assert status == 400 and "publish an XLSForm" in page


def test_forms_can_be_assigned_to_enumerators(admin: Browser, factory: Factory, odk: Path) -> None:
    factory.user("amina", Role.ENUMERATOR)
    factory.publish(odk / "forms/simple.xml")
    page = admin.post("/dashboard/admin/forms/assign", form_id="simple", username="amina", action="add")
    row = re.search(r'<tr data-form="simple">(.*?)</tr>', page, re.DOTALL)
    assert row is not None and "amina" in row.group(1)
    page = admin.post("/dashboard/admin/forms/assign", form_id="simple", username="boss", action="add")
    assert any("only enumerators" in m for m in flashes(page, "error"))


def test_the_catalogue_page_shows_what_is_loaded_and_loads_a_file(admin: Browser, app: Flask) -> None:
    assert "No value chain is loaded yet" in admin.get("/dashboard/admin/catalogue")
    status, page = admin.post_raw("/dashboard/admin/catalogue", catalogue=(io.BytesIO(b"chains: 3\n"), "bad.yaml"))
    assert status == 400 and "bad.yaml was not loaded" in page
    yaml = (ROOT / "forms" / "catalogue.yaml").read_bytes()
    page = admin.post("/dashboard/admin/catalogue", catalogue=(io.BytesIO(yaml), "catalogue.yaml"))
    assert "Catalogue catalogue.yaml: created" in page
    with app.app_context(), transaction() as session:
        chains = session.scalars(select(ValueChain).order_by(ValueChain.code)).all()
        for chain in chains:
            assert f'id="chain-{chain.code}"' in page
            for practice in chain.practices:
                assert f"<code>{practice.code}</code>" in page
    page = admin.post("/dashboard/admin/catalogue", catalogue=(io.BytesIO(yaml), "catalogue.yaml"))
    assert "already loaded; nothing changed" in page


def test_the_jobs_page_recomputes_a_chain_on_request(admin: Browser, app: Flask) -> None:
    for args in (["catalogue", "load", str(ROOT / "forms" / "catalogue.yaml")], ["rounds", "create", "R0"]):
        extra = ["--number", "0", "--kind", "baseline"] if args[0] == "rounds" else []
        assert app.test_cli_runner().invoke(args=args + extra).exit_code == 0
    with app.app_context(), transaction(write=True) as session:
        session.execute(delete(IndicatorMark))
        code = session.scalars(select(ValueChain.code).order_by(ValueChain.code)).first()
    assert code is not None
    assert f'<option value="{code}">' in admin.get("/dashboard/admin/jobs")
    page = admin.post("/dashboard/admin/jobs/recompute", chain=code)
    assert f"Recomputing {code}" in page
    assert f'data-chain="{code}" data-round="R0"' in page and "stale" in page
    page = admin.post("/dashboard/admin/jobs/recompute", chain="NOPE")
    assert any("no value chain 'NOPE'" in m for m in flashes(page, "error"))


def test_an_admin_who_makes_themselves_an_enumerator_is_signed_out(admin: Browser, factory: Factory) -> None:
    factory.user("deputy", Role.ADMIN)
    page = admin.post("/dashboard/admin/users/role", username="boss", role="enumerator")
    assert "You are now an enumerator" in page and 'id="password"' in page  # the login page
    answer = admin.client.get("/dashboard/admin/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_every_admin_change_is_in_the_audit_log_without_secrets(admin: Browser, app: Flask, odk: Path) -> None:
    page = admin.post("/dashboard/admin/users", username="amina", role="enumerator", password_mode="generated")
    password = flashes(page, "secret")[0].rsplit(": ", 1)[1]
    admin.post("/dashboard/admin/users/password", username="amina")
    admin.post("/dashboard/admin/users/amina/collect/token")
    admin.post("/dashboard/admin/users/deactivate", username="amina")
    admin.post("/dashboard/admin/forms", form=(io.BytesIO((odk / "forms/simple.xml").read_bytes()), "simple.xml"))
    admin.post("/dashboard/admin/forms/state", form_id="simple", state="closed")
    admin.post("/dashboard/admin/users/deactivate", username="ghost")  # refused: nothing to record
    with app.app_context(), transaction() as session:
        events = [(e.action, e.actor_name, e.target, e.detail) for e in reversed(audit.recent(session))]
    mine = [(action, target) for action, actor, target, _ in events if actor == "boss" and action != "login"]
    assert mine == [
        ("user_create", "amina"),
        ("user_password_reset", "amina"),
        ("app_token_rotate", "amina"),
        ("user_deactivate", "amina"),
        ("form_publish", "simple"),
        ("form_state_change", "simple"),
    ]
    assert password not in repr(events)
