"""GraphiQL in a real browser, with no internet: the editor renders from the app's own files, a query
with an admin token in GraphiQL's headers editor runs, and the result pane shows the answer."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

WAIT_SECONDS = 60  # a bound on waiting for a broken page, not an assertion about speed


def _create_tier(server: Server, name: str) -> None:
    response = httpx.post(
        f"{server.url}/graphql",
        json={
            "query": "mutation($i: CreateTierInput!) { createTier(input: $i) { errors { code message } } }",
            "variables": {"i": {"code": "GOLD", "name": name, "rank": 1, "minPoints": 1000}},
        },
        headers={"Authorization": f"Bearer {server.admin_token()}"},
    )
    assert response.json() == {"data": {"createTier": {"errors": []}}}, response.text


def _set_editor(browser: Chrome, selector: str, text: str) -> None:
    """Set a CodeMirror editor's text as typing would: GraphiQL hears it through CodeMirror's events."""
    browser.execute_script(
        "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])", selector, text
    )


def _editor_text(browser: Chrome, selector: str) -> str:
    return str(
        browser.execute_script("return document.querySelector(arguments[0]).CodeMirror.getValue()", selector)
    )


def test_graphiql_runs_a_query_with_a_token_from_its_headers_editor(
    server: Server, browser: Chrome, screenshot: Path
) -> None:
    _create_tier(server, "Gold from the browser test")
    wait = WebDriverWait(browser, WAIT_SECONDS)
    try:
        browser.get(f"{server.url}/graphql")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror")))
        assert "Loading..." not in browser.find_element(By.ID, "graphiql").text

        _set_editor(browser, ".graphiql-query-editor .CodeMirror", "{ tiers { name } }")
        browser.find_element(By.XPATH, "//button[normalize-space()='Headers']").click()
        headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
        wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, headers)))
        _set_editor(browser, headers, json.dumps({"Authorization": f"Bearer {server.admin_token()}"}))
        browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

        result = ".result-window .CodeMirror"
        wait.until(lambda b: "tiers" in _editor_text(b, result))
        assert json.loads(_editor_text(browser, result)) == {
            "data": {"tiers": [{"name": "Gold from the browser test"}]}
        }

        # Everything came from this server, and no Content-Security-Policy it sends blocked any of it.
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert f"{server.url}/graphiql/static/graphiql.min.js" in loaded
        assert [url for url in loaded if not url.startswith(f"{server.url}/")] == []
        console = [entry["message"] for entry in browser.get_log("browser")]
        assert [m for m in console if "Content Security Policy" in m] == []
    finally:
        browser.save_screenshot(str(screenshot))
        print(f"screenshot: {screenshot}")
