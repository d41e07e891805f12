"""A real headless Chromium for the tests: Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium.

chromedriver is named explicitly, so Selenium Manager never runs (it would try to download a
driver); every host name resolves to nothing, so the browser cannot reach the network (a page
that needs it fails to load its parts); each browser gets a fresh profile and keeps its files
(profile, crash reports, caches, temporary files) in one folder that is removed afterwards.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
INSTALL = "apt-get install -y --no-install-recommends chromium chromium-driver fonts-liberation"

FLAGS = [
    "--headless",
    "--no-sandbox",  # needed as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",  # no DNS: no network at all
    "--hide-scrollbars",
    "--window-size=1280,900",
]

# Every <img>, once decoded or failed: whether it loaded and its natural size.
_IMAGES = """
const images = [...document.images];
return Promise.all(images.map(i => i.decode().catch(() => null))).then(() =>
  images.map(i => ({alt: i.alt, complete: i.complete,
                    width: i.naturalWidth, height: i.naturalHeight})));
"""


def missing() -> str | None:
    """Why no browser can start here, with how to install one; None when both are there."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if not absent:
        return None
    return f"{' and '.join(absent)} not found: install them with `{INSTALL}` (as root)"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium under chromedriver, quit and cleaned up at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    home = Path(tempfile.mkdtemp(prefix="zoo-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={home / 'profile'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console
    folders = {"XDG_CONFIG_HOME": "config", "XDG_CACHE_HOME": "cache", "TMPDIR": "tmp"}
    for name in folders.values():
        (home / name).mkdir()
    environment = {**os.environ, **{k: str(home / v) for k, v in folders.items()}}
    driver = None
    try:
        driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER, env=environment), options=options
        )
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Page:
    console_errors: list[str]
    images: list[dict[str, Any]]
    summary_rows: list[list[str]]  # the cells of each row of the summary tables

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [i for i in self.images if not (i["complete"] and i["width"] and i["height"])]


def open_page(driver: Any, page: Path, screenshot: Path) -> Page:
    """Load ``page`` from disk; what its console said, its pictures and its summary table;
    and a screenshot of the whole page (not just the window) into ``screenshot``."""
    driver.get_log("browser")  # drop what the start page logged
    driver.get(page.resolve().as_uri())  # returns after the load event
    images = driver.execute_script(_IMAGES)
    rows = driver.execute_script(
        "return [...document.querySelectorAll('table.summary tbody tr')]"
        ".map(r => [...r.cells].map(c => c.textContent));"
    )
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    return Page(errors, images, rows)
