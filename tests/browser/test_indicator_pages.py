"""The overview and the chain pages: every number shown equals the API's, disaggregation, suppression, offline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from app.dashboard.formatting import number
from app.models import Role
from tests.browser.site import Site

Key = tuple[str, str, str, str, str, str]  # chain, code, measure, subject, round, group


def api_results(site: Site, **filters: str) -> dict[Key, dict[str, Any]]:
    """Every stored result matching ``filters``, all pages, keyed as the page's cells are."""
    token = site.api_token(Role.MANAGER)
    out: dict[Key, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params = {**filters, "limit": "10000", **({"cursor": cursor} if cursor else {})}
        answer = site.api("/api/v1/indicators", Role.MANAGER, token, **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        for item in body["items"]:
            out[(item["chain"], item["code"], item["measure"], item["subject"], item["round"], item["group"])] = item
        cursor = body["next_cursor"]
        if not cursor:
            return out


def shown_cells(scope: Locator) -> list[dict[str, str]]:
    cells: list[dict[str, str]] = scope.locator("[data-code]").evaluate_all(
        """els => els.map(e => ({code: e.dataset.code, measure: e.dataset.measure, subject: e.dataset.subject,
             round: e.dataset.round, group: e.dataset.group, value: e.dataset.value, n: e.dataset.n,
             suppressed: e.dataset.suppressed, text: (e.querySelector('.value') || e).textContent.trim()}))"""
    )
    return cells


def check_against_api(chain: str, cells: list[dict[str, str]], api: dict[Key, dict[str, Any]]) -> int:
    """Each cell's value, n and suppression equal the API's; the text is that value, formatted. Returns how many."""
    for c in cells:
        item = api[(chain, c["code"], c["measure"], c["subject"], c["round"], c["group"])]
        assert int(c["n"]) == item["n"], c
        assert (c["suppressed"] == "true") == item["suppressed"], c
        if item["suppressed"]:
            assert c["text"] == f"n = {item['n']}", c
        elif item["value"] is None:
            assert c["value"] == "", c
        else:
            assert float(c["value"]) == pytest.approx(item["value"], rel=1e-12, abs=1e-12), c
            assert c["text"] == number(item["value"], item["unit"]), c
    return len(cells)


def chains(site: Site) -> list[str]:
    answer = site.api("/api/v1/catalogue/chains")
    assert answer.status_code == 200, answer.text
    return sorted(c["code"] for c in answer.json()["items"])


def test_the_overview_shows_every_chain_with_the_apis_numbers(manager_page: Page, site: Site) -> None:
    codes = chains(site)
    cards = manager_page.locator(".chain-card")
    expect(cards).to_have_count(len(codes))
    api = api_results(site, disaggregation="overall", weighting="weighted")
    pairs = site.api("/api/v1/indicators/status").json()["pairs"]
    checked = 0
    for code in codes:
        card = manager_page.locator(f'.chain-card[data-chain="{code}"]')
        checked += check_against_api(code, shown_cells(card), api)
        computed = [p for p in pairs if p["chain"] == code and p["computed_at"]]
        if not computed:
            expect(card).to_contain_text("No indicators yet")
            continue
        latest = max(computed, key=lambda p: p["round"])
        expect(card.locator(".firms")).to_have_text(str(latest["firms"]))
    with_data = {p["chain"] for p in pairs if p["computed_at"]}
    assert with_data
    assert checked >= len(with_data) * 8


def test_a_chain_page_shows_the_apis_numbers_and_draws_its_charts(manager_page: Page, site: Site) -> None:
    requested: list[str] = []
    manager_page.on("request", lambda request: requested.append(request.url))
    chain = chains(site)[0]
    manager_page.locator(f'.chain-card[data-chain="{chain}"] h2 a').click()
    expect(manager_page.locator("h1")).not_to_have_text("Upgrading at a glance")
    for chart in ("adoption-process", "adoption-channel", "reasons", "markets", "returns"):
        expect(manager_page.locator(f"#chart-{chart}")).to_have_attribute("data-rendered", "true")
        expect(manager_page.locator(f"#chart-{chart} .main-svg").first).to_be_visible()
    api = {
        **api_results(site, chain=chain, disaggregation="overall", weighting="weighted"),
        **api_results(site, chain=chain, disaggregation="participant_status", weighting="weighted"),
    }
    cells = shown_cells(manager_page.locator("main"))
    assert check_against_api(chain, cells, api) > 100
    assert {c["group"] for c in cells} >= {"all", "participant", "comparison"}
    shares = [
        float(c["value"])
        for c in shown_cells(manager_page.locator("#end-market-table"))
        if c["measure"] == "value_share"
    ]
    assert sum(shares) == pytest.approx(1.0)  # the end-market distribution covers all sales
    # Offline-safe: the charts' code came from this server, nothing from a CDN.
    assert requested
    assert all(url.startswith(site.base_url) for url in requested), requested


def test_a_disaggregation_shows_that_groups_numbers(manager_page: Page, site: Site) -> None:
    chain = chains(site)[0]
    manager_page.goto(site.url(f"/dashboard/chains/{chain}"))
    manager_page.select_option("#view", "owner_gender:female")
    manager_page.get_by_role("button", name="Apply").click()
    expect(manager_page).to_have_url(
        f"{site.url('/dashboard/chains/' + chain)}?round=R2&view=owner_gender%3Afemale&weighting=weighted"
    )
    api = api_results(site, chain=chain, disaggregation="owner_gender", weighting="weighted")
    practice_cells = shown_cells(manager_page.locator("#practice-table"))
    assert practice_cells
    assert {c["group"] for c in practice_cells} == {"female"}
    check_against_api(chain, shown_cells(manager_page.locator("main")), api)
    # The adoption chart now compares the owners' genders.
    assert {c["group"] for c in shown_cells(manager_page.locator("#adoption-table"))} == {"female", "male"}


def test_suppressed_cells_are_greyed_with_their_n(manager_page: Page, site: Site) -> None:
    chain = chains(site)[0]
    manager_page.goto(site.url(f"/dashboard/chains/{chain}?view=owner_gender:female"))
    suppressed = manager_page.locator("td.suppressed[data-code]")
    assert suppressed.count() > 0
    first = suppressed.first
    n = first.get_attribute("data-n")
    expect(first).to_have_text(f"n = {n}")
    colour = first.evaluate("e => getComputedStyle(e).color")
    plain = manager_page.locator("td.num[data-suppressed=false]").first.evaluate("e => getComputedStyle(e).color")
    assert colour != plain


def test_an_unknown_chain_or_view_gets_a_readable_page(manager_page: Page, site: Site) -> None:
    answer = manager_page.goto(site.url("/dashboard/chains/NO-SUCH"))
    assert answer is not None
    assert answer.status == 404
    expect(manager_page.locator("body")).to_contain_text("no value chain 'NO-SUCH'")
    answer = manager_page.goto(site.url(f"/dashboard/chains/{chains(site)[0]}?view=nonsense"))
    assert answer is not None
    assert answer.status == 400


def test_the_pages_fit_a_phone_screen(browser_phone: Page, site: Site) -> None:
    for path in ("/dashboard/", f"/dashboard/chains/{chains(site)[0]}"):
        browser_phone.goto(site.url(path))
        overflow = browser_phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
