"""The JSON API's shapes for the KoboToolbox integration (GET /api/v1/kobo/hooks, /api/v1/kobo/assets)."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.api import UtcDateTime, _enum, _page_of, _text


class HookCountsOut(Schema):
    created = fields.Integer(metadata={"description": "New submissions stored."})
    edited = fields.Integer(metadata={"description": "New versions of submissions already held."})
    duplicate = fields.Integer(metadata={"description": "Deliveries of versions already held (nothing changed)."})
    rejected = fields.Integer(metadata={"description": "Refused with a 4xx (KoBo does not retry these)."})
    failed = fields.Integer(metadata={"description": "Answered 503 (KoBo retries these)."})


class KoboHookOut(Schema):
    name = fields.String()
    form_id = fields.String()
    auth_mode = _enum(["token", "basic", "header"])
    url = fields.String(metadata={"description": "The hook's URL with its token shortened (it is stored hashed)."})
    basic_username = _text()
    header_name = _text()
    active = fields.Boolean()
    created_at = UtcDateTime()
    last_delivery_at = UtcDateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True, metadata={"description": "HTTP status of the last delivery."})
    last_error = _text()
    last_error_at = UtcDateTime(allow_none=True)
    counts = fields.Nested(HookCountsOut)


class SyncProblemOut(Schema):
    _id = fields.String(data_key="_id", metadata={"description": "KoBo's _id of the record (or 'form')."})
    message = fields.String()


class SyncRunOut(Schema):
    status = _enum(["running", "succeeded", "failed", "interrupted"])
    started_at = UtcDateTime()
    heartbeat_at = UtcDateTime(metadata={"description": "Last progress written (every page)."})
    finished_at = UtcDateTime(allow_none=True)
    watermark_from = fields.Integer(allow_none=True)
    watermark_to = fields.Integer(allow_none=True)
    requests = fields.Integer()
    pages = fields.Integer()
    created = fields.Integer()
    edited = fields.Integer()
    unchanged = fields.Integer()
    deleted = fields.Integer()
    errors = fields.Integer(
        metadata={
            "description": "Records that could not be stored, and files that could not be fetched (see problems)."
        }
    )
    files = fields.Integer(metadata={"description": "Attachments (photos, audio, audit logs) downloaded and stored."})
    form_imported = _text()
    error = _text(metadata={"description": "Why the run failed."})
    problems = fields.List(fields.Nested(SyncProblemOut))


class RecordCountsOut(Schema):
    active = fields.Integer()
    deleted = fields.Integer(metadata={"description": "Deleted in KoBo: marked deleted here, raw data kept."})


class KoboAssetOut(Schema):
    id = fields.Integer()
    server_url = fields.String()
    asset_uid = fields.String()
    name = _text()
    form_id = _text()
    import_form = fields.Boolean()
    token_env = fields.String(metadata={"description": "The environment variable holding the token (never the token)."})
    active = fields.Boolean()
    deployed_version_id = _text()
    watermark_id = fields.Integer(allow_none=True, metadata={"description": "Highest KoBo _id stored."})
    last_success_at = UtcDateTime(allow_none=True)
    records = fields.Nested(RecordCountsOut)
    last_sync = fields.Nested(SyncRunOut, allow_none=True)


KoboHookPageOut = _page_of(KoboHookOut, "KoboHookPage")
KoboAssetPageOut = _page_of(KoboAssetOut, "KoboAssetPage")
