"""``/docs`` in a real browser: headless Chromium loads the page from the running stack
(``local_stack``), Swagger UI fetches ``/openapi.json`` and renders it, and the test reads
the rendered DOM (``--dump-dom`` after a virtual time budget, so no waiting on the wall
clock) and keeps a screenshot in ``tests/artifacts/docs.png`` (git-ignored).

Chromium is Debian's ``chromium`` package (``CHROMIUM`` overrides the binary). Without it
the test is skipped locally, and fails in CI (``CI=true``), where it must be installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import ROOT, LocalStack

ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "docs.png"
BROWSER_TIMEOUT_S = 90
VIRTUAL_TIME_BUDGET_MS = 10_000


def _chromium() -> str:
    configured = os.environ.get("CHROMIUM")
    found = configured or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found and (Path(found).exists() or shutil.which(found)):
        return found
    why = (f"CHROMIUM={configured} does not exist" if configured
           else "chromium is not installed (apt-get install -y chromium)")
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{why}; CI must install it to check /docs in a browser", pytrace=False)
    pytest.skip(why)


class _Operations(HTMLParser):
    """The (METHOD, path) pairs Swagger UI rendered: each operation block has a
    ``opblock-summary-method`` span (its text) and a ``opblock-summary-path`` (``data-path``)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._in_method = False
        self._method = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "opblock-summary-method" in classes:
            self._in_method, self._method = True, ""
        elif "opblock-summary-path" in classes:
            self.found.append((self._method.strip().upper(), attributes.get("data-path") or ""))

    def handle_endtag(self, tag: str) -> None:
        self._in_method = False

    def handle_data(self, data: str) -> None:
        if self._in_method:
            self._method += data


def _render(chromium: str, url: str, profile: Path) -> tuple[str, str]:
    """Chromium's dumped DOM and stderr; the browser (its whole process group) is killed
    if it does not finish in time."""
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage",  # containers often have a small /dev/shm
        f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        "--window-size=1280,2000", f"--screenshot={SCREENSHOT}", "--dump-dom", url,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"chromium did not finish within {BROWSER_TIMEOUT_S} s:\n{err.decode(errors='replace')[-3000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stderr = err.decode(errors="replace")
    assert process.returncode == 0, f"chromium exited with {process.returncode}:\n{stderr[-3000:]}"
    return out.decode(errors="replace"), stderr


def test_swagger_ui_lists_every_operation(local_stack: LocalStack, tmp_path: Path) -> None:
    chromium = _chromium()
    document = requests.get(f"{local_stack.url}/openapi.json", timeout=10).json()
    # Swagger UI lists an operation under each of its tags (untagged ones under "default").
    listings = Counter({(method.upper(), path): max(1, len(operation.get("tags", [])))
                        for path, item in document["paths"].items() for method, operation in item.items()})
    expected = set(listings)
    assert {("GET", "/me"), ("GET", "/catalog")} <= expected

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    dom, stderr = _render(chromium, f"{local_stack.url}/docs", tmp_path / "chromium-profile")

    parser = _Operations()
    parser.feed(dom)
    rendered = set(parser.found)
    context = f"\nrendered: {sorted(rendered)}\nDOM (start): {dom[:2000]}\nchromium stderr: {stderr[-2000:]}"
    assert "Failed to load API definition" not in dom, context
    assert "Auralumic API" in dom, context
    missing, extra = sorted(expected - rendered), sorted(rendered - expected)
    assert rendered == expected, f"missing: {missing}, extra: {extra}{context}"
    assert Counter(parser.found) == listings, context  # once per tag

    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stderr[-2000:]
    assert SCREENSHOT.stat().st_size > 10_000  # a blank page is a few kB
