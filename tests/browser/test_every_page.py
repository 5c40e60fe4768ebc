"""Every dashboard page, found in the app's URL map, opens for an admin without a script error or a refused resource."""

from __future__ import annotations

from playwright.sync_api import Page
from sqlalchemy import select

from app.db import transaction
from app.models import Role, Submission, ValueChain
from tests.browser.site import Site

ARGUMENTS = {"code": "chain", "pk": "submission", "username": "enumerator"}


def sample(site: Site) -> dict[str, str]:
    with site.app.app_context(), transaction() as session:
        chain = session.scalars(select(ValueChain.code).order_by(ValueChain.code)).first()
        submission = session.scalars(select(Submission.id).order_by(Submission.id)).first()
    assert chain is not None and submission is not None
    return {"chain": chain, "submission": str(submission), "enumerator": site.users[Role.ENUMERATOR].username}


def page_paths(site: Site) -> list[str]:
    values = sample(site)
    paths = []
    for rule in site.app.url_map.iter_rules():
        if not rule.rule.startswith("/dashboard") or "GET" not in (rule.methods or set()):
            continue
        if rule.endpoint.startswith("exports.") and rule.arguments:
            continue  # downloads, read back by test_exports.py
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", values[ARGUMENTS[name]]).replace(f"<int:{name}>", values[ARGUMENTS[name]])
        paths.append(path)
    return sorted(paths)


def test_every_dashboard_page_opens_cleanly(admin_page: Page, site: Site) -> None:
    problems: list[str] = []
    admin_page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    admin_page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    admin_page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    paths = page_paths(site)
    assert len(paths) >= 10, paths
    for path in paths:
        answer = admin_page.goto(site.url(path))
        assert answer is not None
        assert answer.status == 200, (path, answer.status)
        admin_page.wait_for_load_state("networkidle")
        assert admin_page.locator("h1").count() >= 1, path
    assert not problems, problems
