"""Talking to a ChainLift (or any OpenRosa) server as ODK Collect does: formList, manifest, media, submissions.

The server URL is a Collect server URL: either the plain root with a user name and password (HTTP Digest), or an
app-user URL ``…/key/<token>``. Submissions are POSTed by a few concurrent clients and retried on 503 and on
connection errors, as Collect retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from defusedxml import ElementTree
from requests.auth import HTTPDigestAuth

from app.demo.model import FormSpec

XF = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"
HEADERS = {"X-OpenRosa-Version": "1.0", "User-Agent": "chainlift-demo/1 (flask demo generate)"}
RETRY_STATUS = {502, 503, 504}


class ServerError(RuntimeError):
    """The server cannot be used: unreachable, wrong password, no such form."""


@dataclass(frozen=True)
class Failure:
    label: str
    status: int | None
    message: str


class OpenRosaClient:
    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        device_id: str = "chainlift-demo",
        retries: int = 5,
        timeout: float = 60,
    ) -> None:
        self.url = url.rstrip("/")
        self.credentials = (username, password or "") if username else None
        self.params = {"deviceID": device_id}
        self.retries, self.timeout = retries, timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(HEADERS)
            if self.credentials:
                session.auth = HTTPDigestAuth(*self.credentials)
        return session

    def _get(self, url: str, **params: str) -> bytes:
        try:
            response = self._session().get(url, params={**self.params, **params}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServerError(f"Cannot reach {url}: {exc}") from exc
        if response.status_code in {401, 403}:
            raise ServerError(f"{url}: {response.status_code}, check the user name, password or app-user URL.")
        if response.status_code != 200:
            raise ServerError(f"{url}: HTTP {response.status_code}")
        return response.content

    def form(self, form_id: str) -> tuple[FormSpec, dict[str, str]]:
        """The current version of ``form_id`` and the download URLs of its media files, from the manifest."""
        listing = ElementTree.fromstring(self._get(f"{self.url}/formList", formID=form_id))
        entry = next((e for e in listing.findall(f"{XF}xform") if e.findtext(f"{XF}formID") == form_id), None)
        if entry is None:
            raise ServerError(f"The server does not offer form '{form_id}' to this user.")
        spec = FormSpec(form_id, entry.findtext(f"{XF}version") or "")
        manifest_url = entry.findtext(f"{XF}manifestUrl")
        if not manifest_url:
            return spec, {}
        manifest = ElementTree.fromstring(self._get(manifest_url))
        return spec, {
            m.findtext(f"{MF}filename", ""): m.findtext(f"{MF}downloadUrl", "")
            for m in manifest.findall(f"{MF}mediaFile")
        }

    def download(self, url: str) -> bytes:
        return self._get(url)

    def post(self, label: str, xml: bytes) -> Failure | None:
        """POST one instance; None when the server stored it (201) or had it already (202)."""
        message = ""
        status: int | None = None
        for attempt in range(self.retries):
            try:
                response = self._session().post(
                    f"{self.url}/submission",
                    params=self.params,
                    files=[("xml_submission_file", ("instance.xml", xml, "text/xml"))],
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                status, message = None, str(exc)
            else:
                status, message = response.status_code, response.text[:500]
                if status in {201, 202}:
                    return None
                if status not in RETRY_STATUS:
                    break
            time.sleep(min(10.0, 0.5 * 2**attempt))
        return Failure(label, status, message)

    def post_many(
        self, items: Iterable[tuple[str, bytes]], clients: int, done: Callable[[Failure | None], None]
    ) -> list[Failure]:
        """POST (label, xml) pairs with ``clients`` concurrent connections; ``done`` is called after each."""
        failures: list[Failure] = []

        def one(item: tuple[str, bytes]) -> Failure | None:
            return self.post(*item)

        with ThreadPoolExecutor(max_workers=max(1, clients)) as pool:
            for result in pool.map(one, items):
                if result is not None:
                    failures.append(result)
                done(result)
        return failures
