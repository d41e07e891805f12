"""The documentation site builds with --strict and works from the disk, with no network.

`mkdocs build --strict` (what `make docs` and CI run) fails on a broken link, a missing
anchor or an API reference that no longer resolves; a real headless Chromium, which cannot
reach the network, then opens the home page, the hooks reference and the lesson's notebook:
no console errors, every picture shown, every internal link pointing at a page and anchor
that exist. The screenshots stay in the test's tmp folder (`pytest -s` prints where).
"""

from __future__ import annotations

import html.parser
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from headless_chromium import chromium, missing, open_page

ROOT = Path(__file__).resolve().parent.parent
OPENED = ["index.html", "reference/hooks.html", "lesson-02.html"]
# Every <a href> of the page, as written in it.
_LINKS = "return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));"


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


def anchors(page: Path) -> set[str]:
    parser = _Ids()
    parser.feed(page.read_text())
    return parser.ids


def broken_links(site: Path, page: Path, hrefs: list[str]) -> list[str]:
    """The internal links of ``page`` whose file, or whose anchor in it, the site lacks."""
    broken = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("mailto:"):
            continue  # another site: not ours to check offline
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        if (
            not target.is_file()
            or site.resolve() not in target.parents
            or (
                parts.fragment
                and target.suffix == ".html"
                and unquote(parts.fragment) not in anchors(target)
            )
        ):
            broken.append(href)
    return broken


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs") / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr
    return folder


@pytest.mark.slow
def test_the_site_builds_strict_with_every_page_and_reference(site):
    for page in [*OPENED, "reference/cli.html", "reference/api.html", "architecture.html"]:
        assert (site / page).is_file(), page
    hooks = anchors(site / "reference" / "hooks.html")
    for hook in ("register_models", "on_log_point", "on_run_end", "RunInfo"):
        assert f"zoo.hookspecs.{hook}" in hooks
    cli = (site / "reference" / "cli.html").read_text()
    assert "zoo train" in cli and "--epochs" in cli  # from click itself


@pytest.mark.slow
def test_every_internal_link_of_every_page_resolves(site):
    class Links(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.hrefs.extend(v for k, v in attrs if k == "href" and v)

    for page in sorted(site.rglob("*.html")):
        if page.name == "404.html":  # a web server's answer at any path: links from the root
            continue
        links = Links()
        links.feed(page.read_text())
        assert broken_links(site, page, links.hrefs) == [], page.relative_to(site)


@pytest.mark.slow
def test_a_headless_chromium_shows_the_pages_offline_without_errors(site, tmp_path):
    if missing():
        pytest.fail(missing())  # never skipped: CI installs the browser (.ci/run)
    with chromium() as browser:
        for name in OPENED:
            screenshot = tmp_path / name.replace("/", "-").replace(".html", ".png")
            page = open_page(browser, site / name, screenshot)
            hrefs = browser.execute_script(_LINKS)
            print(f"screenshot: {screenshot}")
            assert page.console_errors == [], name
            assert page.broken_images == [], name
            assert broken_links(site, site / name, hrefs) == [], name
            if name == "index.html":  # the lesson's two boundaries
                assert any(i["alt"].startswith("Lesson 02 in one picture") for i in page.images)
            if name == "lesson-02.html":  # the notebook's pictures, with its outputs
                assert len(page.images) >= 3
