"""The attention viewer works in a real headless Chromium: it draws a head and switches heads.

Needs Debian's chromium + chromium-driver and selenium (scripts/setup_browser.sh); skips only when
/usr/bin/chromium is absent. Never downloads a browser or driver.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clearformer.explain.viewer import write_attention_viewer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKENS = ["[CLS]", "a", "b", "c", "[SEP]"]


def _weights(layers: int = 2, heads: int = 3) -> list:
    """Head h of layer l puts most weight on key (i + h + l) % n: every head differs."""
    n = len(TOKENS)
    out = []
    for l in range(layers):
        layer = []
        for h in range(heads):
            m = [[0.6 if j == (i + h + l) % n else 0.1 for j in range(n)] for i in range(n)]
            layer.append(m)
        out.append(layer)
    return out


@pytest.fixture()
def driver(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: run scripts/setup_browser.sh (Debian chromium + chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("chromium is installed but selenium is not: run scripts/setup_browser.sh")
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must never fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=900,700",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield browser
    browser.quit()


def _cells(browser) -> list[list[float]]:
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "#grid tr")[1:]
    return [[float(td.get_attribute("data-w")) for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_viewer_draws_the_first_head_and_switches_heads_and_layers(driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    weights = _weights()
    page = write_attention_viewer(tmp_path / "viewer.html", TOKENS, weights, "test sentence", "tiny")
    driver.get(page.as_uri())
    assert driver.find_element(By.ID, "caption").text == "layer 0, head 0"
    assert _cells(driver) == weights[0][0]
    head_labels = [o.text for o in Select(driver.find_element(By.ID, "head")).options]
    assert head_labels == ["head 0", "head 1", "head 2", "mean of heads"]

    Select(driver.find_element(By.ID, "head")).select_by_visible_text("head 2")
    assert driver.find_element(By.ID, "caption").text == "layer 0, head 2"
    assert _cells(driver) == weights[0][2]
    assert _cells(driver) != weights[0][0]

    Select(driver.find_element(By.ID, "layer")).select_by_value("1")
    assert driver.find_element(By.ID, "caption").text == "layer 1, head 2"
    assert _cells(driver) == weights[1][2]

    Select(driver.find_element(By.ID, "head")).select_by_value("mean")
    mean = _cells(driver)
    assert all(abs(sum(row) - 1.0) < 1e-3 for row in mean)
    driver.save_screenshot(str(tmp_path / "viewer.png"))
    assert (tmp_path / "viewer.png").stat().st_size > 5_000


def test_viewer_opens_on_the_requested_head(driver, tmp_path):
    from selenium.webdriver.common.by import By

    weights = _weights()
    page = write_attention_viewer(tmp_path / "v.html", TOKENS, weights, "t", initial=(1, 2))
    driver.get(page.as_uri())
    assert driver.find_element(By.ID, "caption").text == "layer 1, head 2"
    assert _cells(driver) == weights[1][2]


def test_real_minilm_viewer_from_attention_map_topic(driver, tmp_path, minilm_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from clearformer.explain import run_topic

    result = run_topic("attention-map", tmp_path, model=str(minilm_dir))
    best = result["head_where_it_looks_most_at_cat"]
    driver.get((tmp_path / "attention-viewer.html").as_uri())
    assert driver.find_element(By.ID, "caption").text == f"layer {best['layer']}, head {best['head']}"
    cells = _cells(driver)
    tokens = result["tokens"]
    assert len(cells) == len(tokens) and all(abs(sum(row) - 1) < 0.01 for row in cells)
    assert cells[tokens.index("it")][tokens.index("cat")] == pytest.approx(best["weight"], abs=1e-3)
    assert len(Select(driver.find_element(By.ID, "layer")).options) == 6
    assert len(Select(driver.find_element(By.ID, "head")).options) == 13
