"""The review page in headless Chromium (the ``browser`` fixture): reviewing with the
keyboard and the mouse saves the decisions, data shows as text, the console stays clean."""

from __future__ import annotations

import threading

import pytest

from labelaudit.app import create_app, reviewed_labels
from labelaudit.app._server import serve

pd = pytest.importorskip("pandas")
pytest.importorskip("flask")


def opened(app, browser):
    """``browser`` on the page of ``app``, served on a free port until the test ends."""
    server = serve(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    browser.get(f"http://127.0.0.1:{server.port}/")
    yield browser
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(audit_dir, browser):
    hostile = '<img src=x onerror="document.title=1">'
    data = pd.DataFrame({"note": [f"{hostile} example {i} of many" for i in range(300)]})
    yield from opened(create_app(audit_dir, data=data), browser)


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


@pytest.fixture
def tag_page(tag_audit_dir, browser):
    yield from opened(create_app(tag_audit_dir), browser)


def test_reviewing_tags_in_the_browser(tag_page, tag_audit_dir, tmp_path):
    from selenium.webdriver.support.ui import Select

    page = tag_page
    wait_for(page, "position", "1 of 30")
    boxes = page.find_elements("css selector", "#tags input")
    assert [b.get_attribute("value") for b in boxes] == ["red", "round", "small"]
    assert not page.find_element("id", "other").is_displayed()  # one label: not here
    examples = []
    body = page.find_element("tag name", "body")
    for keys in ("a", "1s", "k"):  # accept; toggle red and save; keep
        examples.append(int(page.find_element("id", "position").text.split()[-1][:-1]))
        given = page.find_element("id", "given").text
        checked = [b.get_attribute("value") for b in boxes if b.is_selected()]
        assert "; ".join(checked) == given or (given == "(no tags)" and not checked)
        body.send_keys(*keys)
        wait_for(page, "progress", f"Reviewed {len(examples)} of 30")
    wait_for(page, "progress", "2 with wrong tags (2 retagged, 0 to remove), 1 right")
    labels = reviewed_labels(tag_audit_dir)
    queue = pd.read_csv(tag_audit_dir / "queue.csv", keep_default_na=False).set_index("example")
    first, second, third = (labels.loc[e] for e in examples)
    assert first["decision"] == "relabel"
    assert first["tags"] == queue.loc[examples[0], "suggested_tags"]
    toggled = set(filter(None, second["given_tags"].split("; "))) ^ {"red"}
    assert second["decision"] == "relabel"
    assert second["tags"] == "; ".join(n for n in ["red", "round", "small"] if n in toggled)
    assert third["decision"] == "keep" and third["tags"] == third["given_tags"]
    choice = Select(page.find_element("id", "filter"))
    assert [option.text for option in choice.options] == [
        "all flagged examples",
        "add red (20)",
        "remove small (10)",
        "spot check: 200 unflagged examples at random",
    ]
    choice.select_by_index(2)
    wait_for(page, "position", " of 10 ")
    assert page.find_element("id", "changes").text == "-small"
    choice.select_by_index(3)
    wait_for(page, "position", "1 of 200")
    assert not page.find_element("id", "suggested").is_displayed()
    assert page.find_element("id", "save-tags").is_displayed()
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    shot = tmp_path / "tags.png"
    assert page.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
