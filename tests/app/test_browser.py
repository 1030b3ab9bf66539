"""The review page in headless Chromium (the ``browser`` fixture): reviewing with the
keyboard and the mouse saves the decisions, data shows as text, the console stays clean."""

from __future__ import annotations

import threading

import pytest

from labelaudit.app import create_app, reviewed_labels
from labelaudit.app._server import serve

pd = pytest.importorskip("pandas")
pytest.importorskip("flask")


@pytest.fixture
def page(audit_dir, browser):
    hostile = '<img src=x onerror="document.title=1">'
    data = pd.DataFrame({"note": [f"{hostile} example {i} of many" for i in range(300)]})
    server = serve(create_app(audit_dir, data=data), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    browser.get(f"http://127.0.0.1:{server.port}/")
    yield browser
    server.shutdown()
    server.server_close()


def wait_for(browser, element_id, text):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(
        lambda b: text in b.find_element("id", element_id).text,
        f"#{element_id} never showed {text!r}",
    )


def test_reviewing_in_the_browser_saves_the_decisions(page, audit_dir, tmp_path):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    wait_for(page, "position", "1 of 20")
    text = page.find_element("id", "text").text
    assert text.startswith('<img src=x onerror="document.title=1"> example ')  # as text
    first = [int(text.split()[4])]
    body = page.find_element("tag name", "body")
    body.send_keys("a")  # relabel as suggested, then on to the next
    wait_for(page, "position", "2 of 20")
    body.send_keys("k")
    wait_for(page, "position", "3 of 20")
    body.send_keys("r")
    wait_for(page, "progress", "Reviewed 3 of 20")
    Select(page.find_element("id", "other")).select_by_visible_text("emu")
    assert "Reviewed 3 of 20" in page.find_element("id", "progress").text  # not yet
    page.find_element("id", "other-go").click()
    wait_for(page, "progress", "Reviewed 4 of 20")
    body.send_keys(Keys.ARROW_LEFT)  # back to the fourth, and take it back
    wait_for(page, "decided", "Relabeled as emu")
    body.send_keys("c")
    wait_for(page, "progress", "Reviewed 3 of 20")
    wait_for(page, "progress", "2 wrong labels (1 relabeled, 1 to remove), 1 right")
    body.send_keys("o")  # the list by keyboard: type a name, then Enter
    page.switch_to.active_element.send_keys("e")
    assert "Reviewed 3 of 20" in page.find_element("id", "progress").text
    page.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(page, "progress", "Reviewed 4 of 20")
    body.send_keys(Keys.ARROW_LEFT, "c")
    wait_for(page, "progress", "Reviewed 3 of 20")
    labels = reviewed_labels(audit_dir)
    decided = labels[labels["decision"] != ""]
    assert sorted(decided["decision"]) == ["keep", "relabel", "remove"]
    assert decided.loc[first[0], "label"] == "cat"
    assert page.title.startswith("labelaudit review")  # the hostile text never ran
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    shot = tmp_path / "review.png"
    assert page.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_one_label_pair_at_a_time(page):
    from selenium.webdriver.support.ui import Select

    wait_for(page, "position", "1 of 20")
    choice = Select(page.find_element("id", "filter"))
    options = [option.text for option in choice.options]
    assert options == [
        "all flagged examples",
        "labeled dog, suggested cat (20)",
        "spot check: 200 unflagged examples at random",
    ]
    choice.select_by_index(1)
    wait_for(page, "position", "1 of 20")
    page.find_element("id", "keep").click()
    wait_for(page, "position", "2 of 20")
    choice.select_by_index(0)  # all again: at the first undecided, after the one kept
    wait_for(page, "position", "2 of 20")
    page.find_element("id", "prev").click()
    wait_for(page, "decided", "Kept: the given label is right")
    choice.select_by_index(2)
    wait_for(page, "position", "1 of 200")
    # the model's view is hidden in the spot check: it must not sway the estimate
    assert not page.find_element("id", "suggested").is_displayed()
    assert not page.find_element("id", "accept").is_displayed()
    assert page.find_element("id", "given").is_displayed()
    page.find_element("id", "remove").click()
    wait_for(page, "progress", "Spot check: 1 wrong of 1 unflagged examples, so about 280")
