"""Capture the README's dashboard screenshots from a running ChainLift (e.g. `make demo` then `make run`).

    .venv/bin/python docs/screenshots/capture.py --base-url http://127.0.0.1:5000 --user admin
    (the password is read from the CHAINLIFT_PASSWORD environment variable)

Uses Debian's headless Chromium through Playwright, as the browser tests do.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--chain", default="KE-AVO", help="the chain page to capture")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    password = os.environ["CHAINLIFT_PASSWORD"]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=args.chromium)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{args.base_url}/login")
        page.fill("#username", args.user)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard/")
        page.screenshot(path=HERE / "overview.png", full_page=True)
        page.goto(f"{args.base_url}/dashboard/chains/{args.chain}")
        page.wait_for_selector("#chart-returns[data-rendered=true]")
        page.screenshot(path=HERE / "chain.png", full_page=True)
        page.goto(f"{args.base_url}/dashboard/fieldwork/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=HERE / "fieldwork.png", full_page=True)
        browser.close()
    print(f"saved overview.png, chain.png and fieldwork.png in {HERE}")


if __name__ == "__main__":
    main()
