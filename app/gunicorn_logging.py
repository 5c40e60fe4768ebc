"""gunicorn's access log without secrets: app-user keys (/key/<token>/…) and KoBo hook tokens (/kobo/hook/<token>)
travel in URLs and are masked."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

TOKEN_IN_PATH = re.compile(r"/(key|kobo/hook)/[^/?\s]+")


def mask(text: str) -> str:
    return TOKEN_IN_PATH.sub(r"/\1/***", text)


class MaskingLogger(Logger):  # type: ignore[misc]
    """Use with ``gunicorn --logger-class app.gunicorn_logging.MaskingLogger``."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = mask(atoms[key])
        return atoms
