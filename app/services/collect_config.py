"""ODK Collect set-up for an app user: the ``/key/<token>`` server URL and the settings its QR code carries.

Collect reads a settings QR code as zlib-compressed, base64-encoded JSON (Project settings > Reconfigure with QR
code). Shared by ``flask users collect-config`` and the admin pages, so both hand out the same code.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

import segno
from sqlalchemy.orm import Session

from app.services import users

PROJECT = "ChainLift"


def collect_settings(url: str, project: str) -> dict[str, object]:
    """ODK Collect's settings JSON (what its QR code carries)."""
    return {
        "general": {"server_url": url, "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular"},
        "admin": {"change_server": False, "automatic_update": True},
        "project": {"name": project, "color": "#2e6b3a", "icon": "C"},
    }


def qr_payload(settings: dict[str, object]) -> str:
    return base64.b64encode(zlib.compress(json.dumps(settings).encode())).decode()


def qr_code(payload: str) -> Any:
    """The QR code (a ``segno.QRCode``) of a settings payload: low error correction keeps it small enough to scan."""
    return segno.make(payload, error="l")


@dataclass(frozen=True)
class CollectConfig:
    username: str
    url: str  # server URL with the app-user token: whoever holds it may submit as this user
    settings: dict[str, object]
    payload: str  # what the QR code encodes


def collect_config(
    session: Session, username: str, server: str, project: str = PROJECT, *, rotate: bool = False
) -> CollectConfig:
    """The set-up of ``username``'s phones; ``rotate`` issues a new token, so phones set up with the old one stop."""
    user = users.get_user(session, username)
    if rotate:
        user.token = None
    token = users.ensure_token(user)
    url = f"{server.rstrip('/')}/key/{token}"
    settings = collect_settings(url, project)
    return CollectConfig(user.username, url, settings, qr_payload(settings))
