"""KoboToolbox integration state, for staff: per hook and per asset, the last delivery or sync, counts, errors."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api.v1.auth import require_staff, staff_only
from app.api.v1.pagination import fetch_page
from app.db import transaction
from app.models import Form, KoboAsset, KoboHook, KoboRecord, KoboSyncRun
from app.schemas.api import PageArgs
from app.schemas.kobo import KoboAssetPageOut, KoboHookPageOut

TAG = "kobo"

blp = Blueprint("kobo", __name__, url_prefix="/kobo", description="KoboToolbox hooks (push) and assets (pull).")
blp.before_request(require_staff)


def _hook(hook: KoboHook, form_id: str) -> dict[str, Any]:
    return {
        "name": hook.name,
        "form_id": form_id,
        "auth_mode": hook.auth_mode.value,
        "url": f"/kobo/hook/{hook.token_prefix}…",
        "basic_username": hook.basic_username,
        "header_name": hook.header_name,
        "active": hook.active,
        "created_at": hook.created_at,
        "last_delivery_at": hook.last_delivery_at,
        "last_status": hook.last_status,
        "last_error": hook.last_error,
        "last_error_at": hook.last_error_at,
        "counts": {
            "created": hook.created_count,
            "edited": hook.edited_count,
            "duplicate": hook.duplicate_count,
            "rejected": hook.rejected_count,
            "failed": hook.failed_count,
        },
    }


def _run(run: KoboSyncRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "status": run.status.value,
        "started_at": run.started_at,
        "heartbeat_at": run.heartbeat_at,
        "finished_at": run.finished_at,
        "watermark_from": run.watermark_from,
        "watermark_to": run.watermark_to,
        "requests": run.requests,
        "pages": run.pages,
        "created": run.created_count,
        "edited": run.edited_count,
        "unchanged": run.unchanged_count,
        "deleted": run.deleted_count,
        "errors": run.error_count,
        "files": run.file_count,
        "form_imported": run.form_imported,
        "error": run.error,
        "problems": run.problems,
    }


def _assets(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [row[0].id for row in rows]
    last_ids = select(func.max(KoboSyncRun.id)).where(KoboSyncRun.asset_id.in_(ids)).group_by(KoboSyncRun.asset_id)
    runs = {r.asset_id: r for r in session.scalars(select(KoboSyncRun).where(KoboSyncRun.id.in_(last_ids)))}
    counts: dict[tuple[int | None, bool], int] = {}
    for asset_id, deleted, n in session.execute(
        select(KoboRecord.asset_id, KoboRecord.deleted_at.is_not(None), func.count())
        .where(KoboRecord.asset_id.in_(ids))
        .group_by(KoboRecord.asset_id, KoboRecord.deleted_at.is_not(None))
    ):
        counts[(asset_id, bool(deleted))] = n
    items = []
    for asset, form_id in rows:
        items.append(
            {
                "id": asset.id,
                "server_url": asset.server_url,
                "asset_uid": asset.asset_uid,
                "name": asset.name,
                "form_id": form_id,
                "import_form": asset.import_form,
                "token_env": asset.token_env,
                "active": asset.active,
                "deployed_version_id": asset.deployed_version_id,
                "watermark_id": asset.watermark_id,
                "last_success_at": asset.last_success_at,
                "records": {"active": counts.get((asset.id, False), 0), "deleted": counts.get((asset.id, True), 0)},
                "last_sync": _run(runs.get(asset.id)),
            }
        )
    return items


@blp.route("/hooks", tags=[TAG])
class Hooks(MethodView):
    @staff_only
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, KoboHookPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """KoBo REST-service hooks: form, authentication, last delivery, counts and the last error"""
        with transaction() as session:
            stmt = select(KoboHook, Form.form_id).join(Form, Form.id == KoboHook.form_pk)
            page = fetch_page(session, stmt, KoboHook.id, args, lambda row: row[0].id)
            return {"items": [_hook(hook, form_id) for hook, form_id in page.rows], "next_cursor": page.next_cursor}


@blp.route("/assets", tags=[TAG])
class Assets(MethodView):
    @staff_only
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, KoboAssetPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """KoBo assets pulled by the sync: form, watermark, record counts and the last run (live while it runs)"""
        with transaction() as session:
            stmt = select(KoboAsset, Form.form_id).outerjoin(Form, Form.id == KoboAsset.form_pk)
            page = fetch_page(session, stmt, KoboAsset.id, args, lambda row: row[0].id)
            return {"items": _assets(session, list(page.rows)), "next_cursor": page.next_cursor}
