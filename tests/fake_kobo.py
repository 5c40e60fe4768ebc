"""A small real HTTP server on 127.0.0.1 that answers like KPI's API v2 (../shared/docs/kobo.md §2).

Serves ``/api/v2/assets/{uid}/`` (asset JSON), ``/api/v2/assets/{uid}.xls`` (the XLSForm), a record's files at
``/api/v2/assets/{uid}/data/{_id}/attachments/{key}/`` and ``/api/v2/assets/{uid}/data/`` with KPI's paging
(``start``/``limit``, default 100, capped at 1000, ``next`` built from the request URL), ``sort``, ``fields`` and
the Mongo ``query`` operators a client uses ($gt, $gte, $lt, $in).
Token auth as KPI (``Authorization: Token <key>``). Tests edit and delete records the way KoBo does, and can
make a request fail to interrupt a sync.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class FakeAsset:
    uid: str
    name: str
    xls: bytes
    deployed_version_id: str = "vDeployed0000000000001"
    version_id: str | None = None  # the latest version; differs from the deployed one after undeployed edits
    records: list[dict[str, Any]] = field(default_factory=list)
    files: dict[tuple[int, str], tuple[bytes, str]] = field(default_factory=dict)  # (_id, attachment key) -> file
    chunked: bool = False  # send files without Content-Length, in pieces (as a proxy may)

    def attach(self, kobo_id: int, key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """A file KPI serves at /api/v2/assets/{uid}/data/{_id}/attachments/{key}/ (its uid, or an old numeric id)."""
        self.files[(kobo_id, key)] = (data, content_type)

    def info(self, base: str) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "name": self.name,
            "asset_type": "survey",
            "version_id": self.version_id or self.deployed_version_id,
            "deployed_version_id": self.deployed_version_id,
            "has_deployment": True,
            "deployment__active": True,
            "deployment__uuid": "f7bef041e8624f09946bff05ee5cbd4b",
            "deployment__submission_count": len(self.records),
            "data": f"{base}/api/v2/assets/{self.uid}/data/",
            "downloads": [
                {"format": "xls", "url": f"{base}/api/v2/assets/{self.uid}.xls"},
                {"format": "xml", "url": f"{base}/api/v2/assets/{self.uid}.xml"},
            ],
        }

    def edit(self, kobo_id: int, new_version: dict[str, Any]) -> None:
        """KoBo's edit: the record keeps its place and _id; the new version comes from tests.kobo_helpers.edited."""
        index = next(i for i, r in enumerate(self.records) if r["_id"] == kobo_id)
        self.records[index] = new_version

    def delete(self, kobo_id: int) -> None:
        """A hard delete: the record is simply gone."""
        self.records = [r for r in self.records if r["_id"] != kobo_id]


def _matches(value: Any, condition: Any) -> bool:
    if not isinstance(condition, dict):
        return bool(value == condition)
    for op, operand in condition.items():
        if value is None:
            return False
        if (
            (op == "$gt" and not value > operand)
            or (op == "$gte" and not value >= operand)
            or (op == "$lt" and not value < operand)
            or (op == "$in" and value not in operand)
        ):
            return False
    return True


class FakeKobo:
    def __init__(self, token: str = "kobo-test-token") -> None:  # noqa: S107 - the fake's own test token
        self.token = token
        self.assets: dict[str, FakeAsset] = {}
        self.log: list[tuple[str, dict[str, str]]] = []  # (path, query) of every request
        self.fail: Callable[[Request], int | None] | None = None  # answer this status instead, when not None
        self.base = ""

    def add(self, asset: FakeAsset) -> FakeAsset:
        self.assets[asset.uid] = asset
        return asset

    def data_requests(self, uid: str) -> list[dict[str, str]]:
        return [q for p, q in self.log if p == f"/api/v2/assets/{uid}/data/"]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.answer(Request(environ))(environ, start_response)

    def answer(self, request: Request) -> Response:  # noqa: PLR0911 - one answer per route
        self.log.append((request.path, request.args.to_dict()))
        if self.fail is not None and (status := self.fail(request)) is not None:
            return Response("<h1>Server Error</h1>", status=status, content_type="text/html")
        if request.headers.get("Authorization") != f"Token {self.token}":
            return _json({"detail": "Authentication credentials were not provided."}, 401)
        parts = request.path.strip("/").split("/")
        if len(parts) < 4 or parts[:3] != ["api", "v2", "assets"]:
            return _json({"detail": "Not found."}, 404)
        uid, rest = parts[3], parts[4:]
        if uid.endswith(".xls") and uid[:-4] in self.assets:
            asset = self.assets[uid[:-4]]
            return Response(asset.xls, content_type=XLSX, headers={"Content-Disposition": f"filename={asset.uid}.xlsx"})
        asset_or_none = self.assets.get(uid)
        if asset_or_none is None:
            return _json({"detail": "Not found."}, 404)
        if not rest:
            return _json(asset_or_none.info(self.base))
        if rest == ["data"]:
            return self.data(request, asset_or_none)
        if len(rest) == 4 and rest[0] == "data" and rest[2] == "attachments" and rest[1].isdigit():
            found = asset_or_none.files.get((int(rest[1]), rest[3]))
            if found is None:
                return _json({"detail": "Not found."}, 404)
            data, content_type = found
            if asset_or_none.chunked:
                return Response(
                    iter([data[i : i + 1000] for i in range(0, len(data), 1000)]), content_type=content_type
                )
            return Response(data, content_type=content_type)
        return _json({"detail": "Not found."}, 404)

    def data(self, request: Request, asset: FakeAsset) -> Response:
        args = request.args
        try:
            query = json.loads(args.get("query", "{}"))
            sort = json.loads(args.get("sort", '{"_id": 1}'))
            fields = json.loads(args["fields"]) if "fields" in args else None
            start = int(args.get("start", 0))
            limit = min(int(args.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        except (ValueError, TypeError):
            return _json({"detail": "Invalid query params"}, 400)
        rows = [r for r in asset.records if all(_matches(r.get(k), c) for k, c in query.items())]
        [(key, direction)] = sort.items()
        rows.sort(key=lambda r: str(r.get(key)).zfill(20), reverse=direction == -1)
        page = rows[start : start + limit]
        if fields is not None:
            page = [{k: r[k] for k in fields if k in r} for r in page]

        def link(new_start: int) -> str:
            params = MultiDict(args)
            params["start"], params["limit"] = str(new_start), str(limit)
            return f"{self.base}{request.path}?{urlencode(list(params.items(multi=True)))}"

        return _json(
            {
                "count": len(rows),
                "next": link(start + limit) if start + limit < len(rows) else None,
                "previous": link(max(0, start - limit)) if start > 0 else None,
                "results": page,
            }
        )


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@contextmanager
def running(fake: FakeKobo) -> Iterator[FakeKobo]:
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
