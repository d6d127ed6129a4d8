"""The console in a real browser, on the demo data `scripts/serve` loads: an admin signs in with a
pasted token, finds a member and reveals its contact, creates an offer and pauses it, opens a
campaign's dashboard and the demo experiment's arms against its holdout, builds a segment rule and
previews its size, approves a held earning and reads the audit log. Every file comes from the server
and no Content-Security-Policy blocks anything. A screenshot of each step is kept
(var/test-artifacts/, or BROWSER_ARTIFACTS)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

WAIT_SECONDS = 60  # a bound on waiting for a broken page, not an assertion about speed
OFFER = "Browser test weekend bonus"
EXPERIMENT = "Lotus Tea House: 5% or 8% back"  # scripts/seed_experiment.py


def _gid(type_name: str, number: int) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode()


def _hold_an_earning(server: Server) -> None:
    """A card purchase far over the CNY amount rule: its points wait for review."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={
            "query": "mutation($i: PostPurchaseInput!) { postPurchase(input: $i) {"
            " purchase { id } errors { code message } } }",
            "variables": {
                "i": {
                    "memberId": _gid("Member", 1),
                    "merchantId": _gid("Merchant", 1),
                    "amount": {"amountMinor": 40_000_000, "currency": "CNY"},
                    "idempotencyKey": "browser-test-held",
                }
            },
        },
        headers={"Authorization": f"Bearer {server.processor_token()}"},
    )
    assert response.json()["data"]["postPurchase"]["errors"] == [], response.text


def _offer_number(server: Server, name: str) -> int:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": "query { offers(first: 100) { edges { node { id name } } } }"},
        headers={"Authorization": f"Bearer {server.admin_token()}"},
    )
    [gid] = [e["node"]["id"] for e in response.json()["data"]["offers"]["edges"] if e["node"]["name"] == name]
    return int(base64.b64decode(gid).decode().split(":")[1])


def _full_page_shot(browser: Chrome, path: Path) -> None:
    """The whole page, not only the window: the window made as tall as the page for one shot."""
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size["width"], height + 120)
    path.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(path))
    browser.set_window_size(size["width"], size["height"])


class Steps:
    def __init__(self, browser: Chrome, server: Server, shots: Path) -> None:
        self.browser = browser
        self.server = server
        self.shots = shots
        self.wait = WebDriverWait(browser, WAIT_SECONDS)

    def heading(self, text: str) -> None:
        self.wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))

    def notice(self, text: str) -> None:
        self.wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), text))

    def nav(self, label: str) -> None:
        self.browser.find_element(By.LINK_TEXT, label).click()

    def field(self, element_id: str) -> WebElement:
        return self.browser.find_element(By.ID, element_id)

    def set_value(self, element: WebElement, value: str) -> None:
        """For inputs whose typing depends on the browser's locale (datetime-local)."""
        self.browser.execute_script("arguments[0].value = arguments[1]", element, value)

    def shot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.browser.save_screenshot(str(path))
        return path


def test_an_admin_works_through_the_console_on_demo_data(
    demo_server: Server, browser: Chrome, screenshot: Path
) -> None:
    _hold_an_earning(demo_server)
    steps = Steps(browser, demo_server, screenshot.with_suffix(""))
    try:
        # Signing in: any page leads to the form, and back to that page.
        browser.get(f"{demo_server.url}/console/members")
        steps.heading("Sign in")
        steps.field("token").send_keys(demo_server.admin_token())
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        steps.heading("Members")
        steps.shot("01-members")

        # A member found by its reference; its contact hidden until revealed.
        Select(steps.field("by")).select_by_value("externalRef")
        steps.field("q").send_keys("DEMO-0001")
        page = browser.find_element(By.TAG_NAME, "html")
        browser.find_element(By.CSS_SELECTOR, "form.search button").click()
        # The results are a new page: wait for the old one to go, or its own DEMO-0001 link goes stale.
        steps.wait.until(ec.staleness_of(page))
        steps.wait.until(ec.element_to_be_clickable((By.LINK_TEXT, "DEMO-0001"))).click()
        steps.heading("Member DEMO-0001")
        assert "demo01@example.com" not in browser.page_source
        assert "Hidden." in steps.field("contact-details").text
        steps.field("reveal").click()
        steps.wait.until(ec.text_to_be_present_in_element((By.ID, "contact-details"), "demo01@example.com"))
        balance = browser.find_element(By.XPATH, "//section[h2[@id='balance']]")
        assert balance.find_element(By.LINK_TEXT, "review queue")  # the held earning shows
        steps.shot("02-member-revealed")

        # An offer created, then paused from the list.
        steps.nav("Offers")
        steps.heading("Offers and campaigns")
        browser.find_element(By.LINK_TEXT, "New offer").click()
        steps.heading("New offer")
        steps.field("name").send_keys(OFFER)
        Select(steps.field("mechanic")).select_by_visible_text("BONUS_POINTS")
        steps.set_value(steps.field("startsAt"), "2026-01-01T00:00")
        steps.set_value(steps.field("endsAt"), "2036-01-01T00:00")
        points = steps.field("points")
        points.clear()
        points.send_keys("88")
        steps.field("budgetPoints").send_keys("50000")
        steps.field("save-offer").click()
        steps.notice(f"Offer “{OFFER}” created.")
        browser.find_element(By.CSS_SELECTOR, f"button[aria-label='Pause {OFFER}']").click()
        steps.notice("Offer paused.")
        row = browser.find_element(By.XPATH, f"//tr[td/a[normalize-space()='{OFFER}']]")
        assert "PAUSED" in row.text
        steps.shot("03-offers")

        # A demo campaign's dashboard, with its plots drawn on the server.
        browser.find_element(By.XPATH, "//tr[td[normalize-space()='ACTIVE']]//a[text()='Dashboard']").click()
        steps.heading("Campaign:")
        assert browser.find_elements(By.CSS_SELECTOR, "figure svg.chart")
        steps.shot("04-campaign")

        # The demo's finished experiment: its arms against the holdout, then its experiment page.
        browser.get(f"{demo_server.url}/console/campaigns/{_offer_number(demo_server, EXPERIMENT)}")
        steps.heading(f"Campaign: {EXPERIMENT}")
        titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "section.panel h2")]
        for title in ("Conversion by arm against the holdout", "Incremental spend per member (95% intervals)",
                      "Always-valid interval (mSPRT)", "Sample ratio check", "Return on cost",
                      "Budget burn over time (by day)"):  # fmt: skip
            assert title in titles, titles
        assert "Sample ratio mismatch" not in browser.page_source  # the demo splits as designed
        browser.execute_script("document.getElementById('panel-1').scrollIntoView()")
        steps.shot("04b-experiment-dashboard")  # docs/console.png: conversion and incremental spend
        _full_page_shot(browser, steps.shots / "experiment-dashboard-full.png")
        browser.find_element(By.LINK_TEXT, "Its experiment").click()
        steps.heading(f"Experiment: {EXPERIMENT}")
        variants = steps.field("variants").text
        assert "five" in variants
        assert "eight" in variants
        steps.shot("04c-experiment")

        # A segment rule built in the page (the row added by console.js) and its size previewed.
        steps.nav("Segments")
        steps.heading("Segments")
        Select(browser.find_element(By.NAME, "field")).select_by_value("AVAILABLE_POINTS")
        Select(browser.find_element(By.NAME, "op")).select_by_value("GTE")
        browser.find_element(By.NAME, "value").send_keys("100")
        steps.field("add-condition").click()
        rows = browser.find_elements(By.CSS_SELECTOR, "#conditions li.condition")
        assert len(rows) == 2  # added in place, no round trip
        Select(rows[1].find_element(By.NAME, "field")).select_by_value("PURCHASES_365D")
        Select(rows[1].find_element(By.NAME, "op")).select_by_value("GTE")
        rows[1].find_element(By.NAME, "value").send_keys("1")
        steps.field("preview").click()
        result = steps.wait.until(ec.visibility_of_element_located((By.ID, "preview-result")))
        assert "match now" in result.text
        steps.shot("05-segment-preview")

        # The held earning approved from the queue.
        steps.nav("Risk reviews")
        steps.heading("Risk review queue")
        browser.find_element(By.CSS_SELECTOR, "button[aria-label^='Approve review']").click()
        steps.notice("approved.")
        steps.shot("06-risk")

        # The audit log names what this admin did.
        steps.nav("Audit log")
        steps.heading("Audit log")
        log = browser.find_element(By.TAG_NAME, "table").text
        for action in ("approveRiskReview", "pausedOffer", "createOffer", "personal_data.read"):
            assert action in log
        steps.shot("07-audit")

        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert [url for url in loaded if not url.startswith(f"{demo_server.url}/")] == []
        console = [entry["message"] for entry in browser.get_log("browser")]
        assert [m for m in console if "Content Security Policy" in m] == []
    finally:
        browser.save_screenshot(str(screenshot))
        print(f"screenshots: {screenshot} and {screenshot.with_suffix('')}/")
