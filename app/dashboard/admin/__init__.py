"""Administration (admins only): users and roles, app-user QR codes, publishing forms, the catalogue, job status.

One blueprint, ``admin``; each page family is a module that adds its routes to it.
"""

from __future__ import annotations

from app.dashboard.admin import audit_log, catalogue, collect, job_status, publishing, users
from app.dashboard.admin.blueprint import bp

__all__ = ["audit_log", "bp", "catalogue", "collect", "job_status", "publishing", "users"]
