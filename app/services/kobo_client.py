"""A small client for KoboToolbox's KPI API v2 (../shared/docs/kobo.md §2): Token auth, ``next`` paging, retries,
an optional request-rate limit. No database here; app/services/kobo_sync.py drives it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)
RETRIABLE = {429, 502, 503, 504}
USER_AGENT = "ChainLift KoBo sync"
DOWNLOAD_CHUNK = 1024 * 1024


class KoboApiError(Exception):
    """KoBo answered with an error, or not at all; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimiter:
    """At most ``per_second`` requests a second (evenly spaced); no limit when it is None."""

    def __init__(self, per_second: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("the request rate must be positive")
        self.interval = 1.0 / per_second if per_second else 0.0
        self.clock = clock
        self._next = 0.0

    def wait(self) -> None:
        now = self.clock()
        if now < self._next:
            time.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


class KoboClient:
    def __init__(
        self,
        server_url: str,
        token: str,
        *,
        max_requests_per_second: float | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 2.0,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.base = server_url.rstrip("/") + "/"
        self.origin = urlsplit(self.base)
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
        self.http.headers["User-Agent"] = USER_AGENT
        self.limiter = RateLimiter(max_requests_per_second)
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.on_request = on_request

    def close(self) -> None:
        self.http.close()

    def _url(self, path_or_url: str) -> str:
        """An absolute URL on the configured server. A ``next`` link pointing elsewhere is refused (the token
        would go with it); one that only lost https behind a proxy is put back on the configured scheme."""
        url = urljoin(self.base, path_or_url)
        parts = urlsplit(url)
        if parts.hostname != self.origin.hostname or parts.port not in (None, self.origin.port):
            raise KoboApiError(f"KoBo sent a link to another server ({parts.netloc}); not following it.")
        return urlunsplit((self.origin.scheme, self.origin.netloc, parts.path, parts.query, ""))

    def on_server(self, url: str) -> bool:
        """Does ``url`` point to the configured server (where the token may go)?"""
        try:
            self._url(url)
        except (KoboApiError, ValueError):  # ValueError: a malformed URL (e.g. a port out of range)
            return False
        return True

    def get(
        self, path_or_url: str, params: Mapping[str, Any] | None = None, *, stream: bool = False
    ) -> requests.Response:
        """A GET on the configured server, retried when KoBo is busy. ``stream=True`` leaves the body unread: the
        caller reads it (``iter_content``) and closes the response."""
        url = self._url(path_or_url)
        for attempt in range(self.retries + 1):
            self.limiter.wait()
            if self.on_request is not None:
                self.on_request()
            try:
                response = self.http.get(url, params=params, timeout=self.timeout, allow_redirects=False, stream=stream)
            except requests.RequestException as exc:
                if attempt == self.retries:
                    raise KoboApiError(f"KoBo did not answer ({type(exc).__name__}: {exc}).") from exc
                self._pause(attempt, None)
                continue
            if response.status_code in RETRIABLE and attempt < self.retries:
                response.close()
                self._pause(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 300:
                message = _explain(response)  # reads the (small) error body, streamed or not
                response.close()
                raise KoboApiError(message, response.status_code)
            return response
        raise AssertionError("unreachable")

    def download(self, path_or_url: str, write: Callable[[bytes], object], max_bytes: int) -> int:
        """Stream a file (an attachment) into ``write``, chunk by chunk; KoboApiError past ``max_bytes``.
        Returns the size. A retried request restarts nothing: ``write`` sees the body of one response only."""
        response = self.get(path_or_url, stream=True)
        size = 0
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise KoboApiError(f"the file is {int(declared):,} bytes, over the limit of {max_bytes:,}")
            try:
                for chunk in response.iter_content(DOWNLOAD_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise KoboApiError(f"the file is over the limit of {max_bytes:,} bytes")
                    write(chunk)
            except requests.RequestException as exc:
                raise KoboApiError(f"the download broke off ({type(exc).__name__}: {exc})") from exc
        finally:
            response.close()
        return size

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * 2**attempt
        if retry_after and retry_after.isdigit():
            delay = min(max(delay, float(retry_after)), 120.0)
        log.info("KoBo busy or unreachable; retrying in %.1f s", delay)
        time.sleep(delay)

    def json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.get(path_or_url, params)
        try:
            data = response.json()
        except ValueError as exc:
            raise KoboApiError(f"KoBo's answer from {response.url} is not JSON.") from exc
        if not isinstance(data, dict):
            raise KoboApiError(f"KoBo's answer from {response.url} is not a JSON object.")
        return data

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a paginated list, following ``next`` until it is null."""
        page = self.json(path, params)
        while True:
            if not isinstance(page.get("results"), list):
                raise KoboApiError("KoBo's page has no 'results' list.")
            yield page
            following = page.get("next")
            if not following:
                return
            if not isinstance(following, str):
                raise KoboApiError("KoBo's 'next' link is not a URL.")
            page = self.json(following)


def _explain(response: requests.Response) -> str:
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            detail = f": {body['detail']}"
    except ValueError:
        pass
    hints = {
        401: " (check the API token)",
        403: " (the token's account cannot view this project's data)",
        404: " (check the server URL and the asset uid)",
    }
    hint = hints.get(response.status_code, "")
    return f"KoBo answered {response.status_code} for {urlsplit(response.url).path}{detail}{hint}"
