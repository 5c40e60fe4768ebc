"""The programme managers' dashboard: server-rendered pages behind a login (cookie session, CSRF on every change).

One blueprint a page family, each guarded by role (``access.guard``):
- ``overview`` and ``chains``: the indicators at a glance and per chain (admins, managers);
- ``fieldwork``: submissions per day and enumerator, review queue and review actions (admins, managers);
- ``exports``: indicators and analysis tables as CSV and XLSX, streamed (admins, managers; personal data: admins);
- ``admin``: users and app-user QR codes, form publishing, the catalogue, job status (admins).
Enumerators are refused everywhere: they work through ODK Collect.
"""

from __future__ import annotations

from flask import Flask

from app.dashboard import access, admin, assets, auth, chains, exports, fieldwork, formatting, overview


def register_dashboard(app: Flask) -> None:
    access.init_app(app)
    formatting.init_app(app)
    for blueprint in (auth.bp, assets.bp, overview.bp, chains.bp, fieldwork.bp, exports.bp, admin.bp):
        app.register_blueprint(blueprint)
