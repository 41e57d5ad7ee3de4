"""The cockpit in a real browser: headless Chromium from the system's packages, driven by selenium.

The browser and its driver are the distribution's (``/usr/bin/chromium``,
``/usr/bin/chromedriver``), installed by ``scripts/install-browser.sh`` (``make test`` runs it);
selenium is pointed at that driver, so nothing is downloaded. A missing browser fails these
tests (never skips them). At 390 px and 1280 px wide the page must load without a console
error, every link must lead to an existing file (and its anchor to an element of that file),
every sparkline must be drawn with a non-zero size and nothing may be wider than the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from salesops_lib.data.snapshot import list_snapshots
from tests.conftest import Workspace
from tests.runs.cockpit_fixtures import HOSTILE_NAME, publish_reports

BROWSER = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium (the system's), with the browser console log enabled."""
    missing = [str(p) for p in (BROWSER, DRIVER) if not p.is_file()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: run `bash scripts/install-browser.sh` as root "
            "(apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def cockpit(tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The latest cockpit page of a reports folder published on the tiny workspace."""
    reports = tmp_path_factory.mktemp("browser") / "reports"
    weeks = [d.isoformat() for d in list_snapshots(tiny_workspace.snapshots)]
    with pytest.MonkeyPatch.context() as patch:
        for key, value in tiny_workspace.env().items():
            patch.setenv(key, value)
        publish_reports(reports, weeks[-2:])
    return reports / weeks[-1] / "index.html"


def _local_target(href: str) -> tuple[Path, str]:
    """The file and fragment a resolved ``file://`` link points at."""
    parts = urlsplit(href)
    assert parts.scheme == "file", href
    return Path(unquote(parts.path)), unquote(parts.fragment)


@pytest.mark.parametrize("width", WIDTHS)
def test_cockpit_loads_links_resolve_sparklines_render_nothing_overflows(
    browser: webdriver.Chrome, cockpit: Path, width: int
) -> None:
    browser.set_window_size(width, 900)
    browser.get_log("browser")  # start from an empty console
    browser.get(cockpit.as_uri())
    assert browser.title.startswith("Sales cockpit as of")
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []

    assert HOSTILE_NAME in browser.find_element(By.TAG_NAME, "body").text  # shown as text
    assert browser.find_elements(By.TAG_NAME, "script") == []

    links = [a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")]
    assert len(links) > 10
    for href in links:
        target, fragment = _local_target(href)
        assert target.is_file(), href
        if fragment and target != cockpit:
            assert f'id="{fragment}"' in target.read_text(encoding="utf-8"), href
        elif fragment:
            assert browser.find_elements(By.ID, fragment), href
    changes = browser.find_elements(By.CSS_SELECTOR, "ol.changes a")
    assert changes and all("#" in a.get_attribute("href") for a in changes)

    sparklines = browser.find_elements(By.CSS_SELECTOR, "svg.spark")
    assert len(sparklines) >= 7 * 3  # every figure of the company and of both regions
    for svg in sparklines:
        size = svg.size
        assert size["width"] > 0 and size["height"] > 0
    drawn = browser.find_elements(By.CSS_SELECTOR, "svg.spark polyline")
    assert drawn and all(line.size["width"] > 0 for line in drawn[:5])

    page_width, window_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert page_width <= window_width, f"page is {page_width}px wide in a {window_width}px window"
