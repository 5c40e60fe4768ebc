"""Setting several response headers at once, for the hooks that run on every response."""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.datastructures import Headers


def set_headers(headers: Headers, values: Iterable[tuple[str, str]], *, replace: bool) -> None:
    """Set several headers in one pass over those present: ``replace=False`` keeps a value already set.

    Werkzeug's ``setdefault`` raises and catches a KeyError for every header that is absent, and ``set`` scans
    the list once per header; these hooks run on every response, the OpenRosa POSTs included.
    """
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers iterates (name, value) pairs
    for name, value in values:
        if name.lower() not in present:
            headers.add(name, value)
        elif replace:
            headers.set(name, value)
