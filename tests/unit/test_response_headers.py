"""``set_headers``: several headers in one pass, keeping or replacing those already set."""

from __future__ import annotations

from werkzeug.datastructures import Headers

from app.response_headers import set_headers


def test_absent_headers_are_added_and_present_ones_kept_unless_replacing() -> None:
    headers = Headers([("Cache-Control", "private"), ("content-language", "fr")])
    set_headers(headers, [("Cache-Control", "no-store"), ("X-Frame-Options", "DENY")], replace=False)
    assert headers.getlist("Cache-Control") == ["private"]  # matched without regard to case, and kept
    assert headers["X-Frame-Options"] == "DENY"
    set_headers(headers, [("Content-Language", "en"), ("X-OpenRosa-Version", "1.0")], replace=True)
    assert headers.getlist("Content-Language") == ["en"]  # replaced, not added a second time
    assert headers["X-OpenRosa-Version"] == "1.0"
    assert len(headers) == 4
