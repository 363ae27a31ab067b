"""The HTML reports open in a real browser, on screen and in print. Runs only where
Chromium is installed (Debian: apt-get install chromium); the project never needs it."""

import shutil
import subprocess

import pytest

from engine.audit.consistency import case_report, replay
from engine.audit.overview import overview
from engine.audit.render import to_html
from engine.audit.reports import case_blocks, case_title, overview_blocks, overview_title
from engine.audit.store import open_store

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome",
                                                 "chrome") if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed")


def _headless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--disable-extensions", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pages(sample_db, audit_engine, tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    with open_store(sample_db, create=False) as store:
        case = store.find("NCA-2023-0412")
        letter = case_report(case, store.responses(case.id)[case.id],
                             store.disputes(case.id)[case.id], replay(audit_engine, case),
                             store.verify())
        many = overview(store.cases(), store.responses(), store.disputes())
    out = {}
    for name, blocks, title in (("case", case_blocks(letter), case_title(letter)),
                                ("report", overview_blocks(many), overview_title(many))):
        path = folder / f"{name}.html"
        path.write_text(to_html(blocks, title), encoding="utf-8")
        out[name] = path
    return out


@pytest.mark.parametrize("name, expected", [
    ("case", ["falls short of its own published policy", "<mark", "3000 pounds"]),
    ("report", ["Predicted and actual", "<svg", "Reliability"]),
])
def test_the_reports_render(pages, name, expected):
    dom = _headless("--dump-dom", pages[name].as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    for text in expected:
        assert text in dom.stdout


@pytest.mark.parametrize("name", ["case", "report"])
def test_the_reports_print(pages, name, tmp_path):
    pdf = tmp_path / f"{name}.pdf"
    printed = _headless("--no-pdf-header-footer", f"--print-to-pdf={pdf}", pages[name].as_uri())
    assert printed.returncode == 0, printed.stderr[-2000:]
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF") and len(content) > 10_000
