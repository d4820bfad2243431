"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright.

Never downloads a browser: it launches /usr/bin/chromium (``apt-get install chromium``; `.ci/run`
installs it). Without it the test fails when ``CI`` is set and is skipped otherwise.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_reports_data import MODELS, all_records

from brainalign import api
from brainalign.reports import ResultsStore, area_scores, layer_table, leaderboard

CHROMIUM = os.environ.get("BRAINALIGN_CHROMIUM", "/usr/bin/chromium")
#: screenshots are kept here for people to look at (CI uploads the folder); not in git
ARTIFACTS = Path(os.environ.get("BRAINALIGN_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts")) / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]


def _require_browser():
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the `playwright` package is not installed (pip install -e '.[test]')"
    if reason is None and not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    store = ResultsStore(root / "results")
    records = all_records()
    for record in records:
        store.write(record)
    api.report(root / "results", html=root / "report.html")
    return root / "report.html", records


@pytest.fixture(scope="module")
def page_session(report_html):
    _require_browser()
    from playwright.sync_api import sync_playwright

    path, records = report_html
    url = path.resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console, requests = [], []
        page.on("console", lambda message: console.append((message.type, message.text)))
        page.on("pageerror", lambda error: console.append(("pageerror", str(error))))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url, wait_until="load")
        yield {"page": page, "url": url, "console": console, "requests": requests, "records": records,
               "dir": path.parent}
        browser.close()


def _column(page, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(f"#{table} tbody tr:not(.hidden) td:nth-child({index})",
                                     "cells => cells.map(c => c.getAttribute('data-value'))")


def _header_index(page, table: str, text: str) -> int:
    headers = page.eval_on_selector_all(f"#{table} thead th", "ths => ths.map(t => t.textContent.trim())")
    return headers.index(text) + 1


def test_sorting_the_leaderboard_by_a_column(page_session):
    page, records = page_session["page"], page_session["records"]
    expected = area_scores(leaderboard(layer_table(records)))["V1"].sort_values(ascending=False)
    initial = _column(page, "leaderboard-table", 2)
    assert initial != list(expected.index)          # the page starts in overall order, which differs
    index = _header_index(page, "leaderboard-table", "V1")
    page.click(f"#leaderboard-table thead th:nth-child({index})")
    assert page.get_attribute(f"#leaderboard-table thead th:nth-child({index})", "aria-sort") == "descending"
    shown = [float(v) for v in _column(page, "leaderboard-table", index)]
    assert shown == pytest.approx(list(expected.values))
    models = _column(page, "leaderboard-table", 2)
    assert models == list(expected.index)
    page.click(f"#leaderboard-table thead th:nth-child({index})")
    assert [float(v) for v in _column(page, "leaderboard-table", index)] == pytest.approx(sorted(shown))
    page.click("#leaderboard-table thead th:nth-child(2)")        # text column: alphabetical
    assert _column(page, "leaderboard-table", 2) == sorted(models)


def test_filtering_by_objective_and_area(page_session):
    page = page_session["page"]
    page.select_option("#filter-objective", "simclr")
    assert len(_column(page, "leaderboard-table", 2)) == sum(m[2] == "simclr" for m in MODELS.values())
    assert page.text_content("#shown-count") == "3 model(s) shown"
    page.select_option("#filter-area", "V1")
    areas = set(page.eval_on_selector_all("#benchmark-table tbody tr:not(.hidden)",
                                          "rows => rows.map(r => r.getAttribute('data-area'))"))
    assert areas == {"V1"}
    hidden = page.eval_on_selector_all("#leaderboard-table thead th.hidden", "ths => ths.map(t => t.textContent)")
    assert sorted(hidden) == ["V2", "behaviour", "mouse"]
    page.select_option("#filter-objective", "")
    page.select_option("#filter-area", "")
    assert len(_column(page, "leaderboard-table", 2)) == len(MODELS)


def test_area_filter_hides_models_without_a_score_in_that_area(page_session):
    page, records = page_session["page"], page_session["records"]
    behaviour = area_scores(leaderboard(layer_table(records)))["behaviour"].dropna()
    assert 0 < len(behaviour) < len(MODELS)                       # some models have no behaviour score
    page.select_option("#filter-area", "behaviour")
    assert sorted(_column(page, "leaderboard-table", 2)) == sorted(behaviour.index)
    sections = page.eval_on_selector_all("details.model:not(.hidden)", "ds => ds.map(d => d.getAttribute('data-model'))")
    assert sorted(sections) == sorted(behaviour.index)
    page.select_option("#filter-area", "")
    assert len(_column(page, "leaderboard-table", 2)) == len(MODELS)


def test_overview_heatmap_shows_area_scores_and_coverage(page_session):
    page, records = page_session["page"], page_session["records"]
    areas = area_scores(leaderboard(layer_table(records)))
    rows = page.eval_on_selector_all("#overview-table tbody tr", "rows => rows.map(r => Array.from(r.cells, "
                                     "c => c.textContent.trim()))")
    headers = page.eval_on_selector_all("#overview-table thead th", "ths => ths.map(t => t.textContent.trim())")
    assert [r[0] for r in rows] == list(areas.sort_values("overall", ascending=False).index)
    column = next(i for i, h in enumerate(headers) if h.startswith("mouse"))
    for row in rows:
        score = areas.loc[row[0], "mouse"]
        assert row[column] == f"{score:.3f}2/2"                   # score, then 2 of the 2 mouse benchmarks
    alexnet = next(r for r in rows if r[0].startswith("alexnet_bn64"))
    assert alexnet[headers.index("behaviour (1)")] == "not scored0/1"
    assert alexnet[2] == f"{areas.loc[alexnet[0], 'coverage']:.0%}"


@pytest.mark.parametrize("width", [1400, 390])
def test_screenshots_at_desktop_and_phone_width(page_session, width):
    """The per-benchmark table fits 1400 px with its score column visible; both widths are saved
    as screenshots in the test artefacts (look at them)."""
    page = page_session["page"]
    page.set_viewport_size({"width": width, "height": 900})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{width}px.png"), full_page=True)
    overflow = page.evaluate("""() => {
        const table = document.getElementById('benchmark-table');
        const score = Array.from(table.tHead.rows[0].cells).find(c => c.textContent.trim() === 'score');
        return {table: table.scrollWidth, box: table.parentElement.clientWidth,
                score_right: score.getBoundingClientRect().right, page: document.documentElement.scrollWidth};
    }""")
    assert overflow["page"] <= width                               # nothing pushes the page sideways
    if width == 1400:
        assert overflow["table"] <= overflow["box"], overflow      # no horizontal scrolling at 1400 px
        assert overflow["score_right"] <= width
    titles = page.eval_on_selector_all("svg.chart", "svgs => svgs.map(s => { const t = s.querySelector('text');"
                                       " const b = s.getBoundingClientRect(); const r = t.getBoundingClientRect();"
                                       " return r.right <= b.right + 1 && r.left >= b.left - 1; })")
    assert titles and all(titles)                                  # chart titles are not cut off
    page.set_viewport_size({"width": 1280, "height": 900})


def test_no_console_errors_no_network_and_a_non_blank_screenshot(page_session):
    page = page_session["page"]
    shot = page_session["dir"] / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert page_session["console"] == []
    assert page_session["requests"] == [page_session["url"]]     # the file itself, nothing else
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[1] == 1280 and pixels.shape[0] > 2000      # the whole report, not one screen
    non_white = (pixels < 240).any(axis=2).mean()
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert 0.02 < non_white < 0.6, non_white                       # text, tables and charts on a white page
    assert (saturation > 80).mean() > 0.001                       # coloured chart lines / heatmaps rendered
