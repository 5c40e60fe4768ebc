"""GET /api/v1/kobo/hooks and /api/v1/kobo/assets: what the KoBo integration did, for staff only."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from app.db import transaction
from app.models import KoboAuthMode
from app.services import kobo_hooks, kobo_sync
from tests.fake_kobo import FakeAsset, FakeKobo, running
from tests.helpers import Factory
from tests.integration.test_api_support import load_panel, make_staff, ok, problem
from tests.kobo_helpers import kobo_record, xlsx_from_md
from tests.processing_helpers import MINI_FORM, mini_instance


def test_hooks_show_their_deliveries_counts_and_last_error(client: FlaskClient, factory: Factory) -> None:
    load_panel(client.application, factory)
    staff = make_staff(client, factory)
    with client.application.app_context(), transaction(write=True) as session:
        token = kobo_hooks.create_hook(session, "field-team", "mini", KoboAuthMode.BASIC).token
    record = kobo_record(mini_instance(), {"dec"}, kobo_id=1)
    body = json.dumps(record).encode()
    auth = {"Authorization": "Basic a29ibzp3cm9uZw=="}  # kobo:wrong
    assert client.post(f"/kobo/hook/{token}", data=body, content_type="application/json").status_code == 401
    assert (
        client.post(f"/kobo/hook/{token}", data=b"[]", content_type="application/json", headers=auth).status_code == 401
    )

    assert problem(client.get("/api/v1/kobo/hooks"), 401)
    assert problem(client.get("/api/v1/kobo/hooks", headers=staff.enumerator.headers), 403)
    [hook] = ok(client.get("/api/v1/kobo/hooks", headers=staff.manager.headers))["items"]
    assert hook["name"] == "field-team" and hook["form_id"] == "mini" and hook["auth_mode"] == "basic"
    assert hook["url"].startswith("/kobo/hook/") and token not in hook["url"]
    assert hook["last_status"] == 401 and "Basic" in hook["last_error"]
    assert hook["counts"] == {"created": 0, "edited": 0, "duplicate": 0, "rejected": 2, "failed": 0}


def test_assets_show_their_last_sync_and_record_counts(client: FlaskClient, factory: Factory) -> None:
    app = client.application
    load_panel(app, factory)
    staff = make_staff(client, factory)
    records = [kobo_record(mini_instance(name=f"F{i}"), {"dec"}, kobo_id=i) for i in (1, 2, 3)]
    with running(FakeKobo()) as fake:
        asset_uid = "aApiAsset000000000001"
        remote = fake.add(FakeAsset(asset_uid, "Survey", xlsx_from_md(MINI_FORM), records=records))
        with app.app_context(), transaction(write=True) as session:
            asset_id = kobo_sync.add_asset(session, fake.base, asset_uid, "KOBO_TOKEN", form_id="mini").id
        kobo_sync.sync_asset(app.extensions["sessionmaker"], asset_id, environ={"KOBO_TOKEN": fake.token})
        remote.delete(3)
        kobo_sync.sync_asset(app.extensions["sessionmaker"], asset_id, environ={"KOBO_TOKEN": fake.token})
    assert problem(client.get("/api/v1/kobo/assets", headers=staff.enumerator.headers), 403)
    [asset] = ok(client.get("/api/v1/kobo/assets", headers=staff.admin.headers))["items"]
    assert asset["asset_uid"] == asset_uid and asset["form_id"] == "mini" and asset["token_env"] == "KOBO_TOKEN"
    assert asset["import_form"] is False and asset["watermark_id"] == 3
    assert asset["records"] == {"active": 2, "deleted": 1}
    last = asset["last_sync"]
    assert last["status"] == "succeeded" and last["deleted"] == 1 and last["created"] == 0 and last["files"] == 0
    assert last["finished_at"] and last["problems"] == [] and last["error"] is None
    spec = ok(client.get("/api/v1/openapi.json"))
    assert "/api/v1/kobo/assets" in spec["paths"] and "/api/v1/kobo/hooks" in spec["paths"]
