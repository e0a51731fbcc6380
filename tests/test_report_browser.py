"""The HTML report as a reader sees it (issue 26): opened in headless Chromium at 1400×857, the front
page's title lies in the first viewport, and the summary is an HTML page the report shows inline
(a rendered table), not a file to download. Skipped where Chromium is not installed (.ci/run
installs Debian's `chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWPORT = (1400, 857)
TITLE = "PokerNet reproducibility suite"
SUMMARY = "results/html/summary.html"

# A page of ours that opens the report in a frame of the viewport's size and, once the report has
# drawn itself, writes what it found into <pre id="out"> (read back with --dump-dom).
PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="r" src="report.html" style="width:WIDTHpx;height:HEIGHTpx;border:0"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById("r").addEventListener("load", () => setTimeout(() => {
  const w = document.getElementById("r").contentWindow, doc = w.document;
  const title = [...doc.querySelectorAll("h1,h2,h3")].find(e => e.textContent.trim() === TITLE_JSON);
  const box = title ? title.getBoundingClientRect() : null;
  const entry = w.eval("results")[SUMMARY_JSON];
  const page = entry ? new DOMParser().parseFromString(
    new TextDecoder().decode(Uint8Array.from(atob(entry.data_uri.split(",")[1]), c => c.charCodeAt(0))),
    "text/html") : null;
  document.getElementById("out").textContent = JSON.stringify({
    top: box && box.top, bottom: box && box.bottom,
    mime: entry && w.eval("getResultMimeType")(SUMMARY_JSON),
    tables: page && page.querySelectorAll("table").length,
    header: page && page.querySelector("table th") && page.querySelector("table th").textContent,
  });
}, 2000));
</script></body></html>"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--report", str(folder / "report.html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # No unexplained warnings (issue 26: 91 of 103 lines were "Missing metadata for file ..."): the
    # Snakefile folds them into one line that says why.
    log = result.stdout + result.stderr
    assert "Missing metadata" not in log and log.count("Snakemake has no record of the jobs") <= 1, log[-3000:]
    return folder / "report.html"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_opens_at_its_title_and_shows_the_summary_as_html(report, tmp_path):
    probe = PROBE.replace("WIDTH", str(VIEWPORT[0])).replace("HEIGHT", str(VIEWPORT[1]))
    probe = probe.replace("TITLE_JSON", json.dumps(TITLE)).replace("SUMMARY_JSON", json.dumps(SUMMARY))
    (tmp_path / "report.html").write_bytes(report.read_bytes())
    (tmp_path / "probe.html").write_text(probe)
    result = chromium(
        "--allow-file-access-from-files",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1] + 100}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        (tmp_path / "probe.html").as_uri(),
        profile=tmp_path / "profile",
    )
    found = re.search(r'<pre id="out">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1) != "pending", result.stderr[-2000:]
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["top"] is not None, f"the report has no heading {TITLE!r}"
    assert 0 <= seen["top"] and seen["bottom"] <= VIEWPORT[1], f"the title is outside the first viewport: {seen}"
    assert seen["mime"] == "text/html", f"{SUMMARY} is not shown inline: {seen}"
    assert seen["tables"] and seen["header"], f"{SUMMARY} holds no rendered table: {seen}"
