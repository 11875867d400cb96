#!/usr/bin/python3
"""bench.py [--units N] [--signals K]: the Cockpit page at N units (10,000).

The page's own files with fake-cockpit.js in place of Cockpit's cockpit.js
(a coldroomd of N units that sends one Readings signal with every unit each
second), in headless Chromium (Debian's chromium, chromium-driver,
python3-selenium). Measures the time from asking for the page to the first
rows of the list, what a signal costs the page (its handler: apply every
entry, refilter if a state changed, render the visible rows) and the
message's JSON parse, a scroll to the middle and a filter; checks that
every unit is loaded, that the list stays virtualised (a few dozen rows
in the DOM) and that the filter finds one unit among them. The times are
figures for BENCHMARKS.md, never judged here (a shared machine's timing
is no verdict); a screenshot of the list goes to
$O/tests/cockpit/bench-N.png. Exit status 0 when the checks pass.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

from selenium.webdriver.support.ui import WebDriverWait

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from browser import headless_chromium  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
SCALE = max(1.0, float(os.environ.get("WAIT_SCALE", "1")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10000)
    ap.add_argument("--signals", type=int, default=30)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cockpit-bench.")
    try:
        shutil.copytree(os.path.join(top, "cockpit"), os.path.join(work, "coldroom"))
        os.makedirs(os.path.join(work, "base1"))
        shutil.copy(os.path.join(here, "fake-cockpit.js"), os.path.join(work, "base1", "cockpit.js"))
        d = headless_chromium()
        try:
            return run(d, work, a)
        finally:
            d.quit()
    finally:
        shutil.rmtree(work)


def run(d, work, a):
    wait = lambda cond, s: WebDriverWait(d, s * SCALE, poll_frequency=0.1).until(cond)
    d.get(f"file://{work}/coldroom/index.html?units={a.units}&period=1000#/")
    wait(lambda d: d.execute_script("return window.coldroomStats.firstRenderMs"), 60)
    first = d.execute_script("return window.coldroomStats.firstRenderMs")
    wait(lambda d: d.execute_script("return window.coldroomStats.signals") >= a.signals, a.signals * 3 + 30)
    s = d.execute_script("return [window.coldroomStats, window.fakeStats]")
    upd, parse = s[0]["updateMs"], s[1]["parseMs"]
    dom_rows = d.execute_script("return document.querySelectorAll('#rooms-viewport .list-row').length")
    units_shown = d.execute_script("return window.coldroomStats.units")

    scroll = d.execute_script("""
        const vp = document.getElementById('rooms-viewport');
        const t0 = performance.now();
        vp.scrollTop = vp.scrollHeight / 2;
        vp.dispatchEvent(new Event('scroll'));
        return new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(() => {
            const first = Array.from(vp.querySelectorAll('.list-row')).filter(r => !r.hidden)
                .map(r => r.firstChild.textContent)[0];
            ok([performance.now() - t0, first]);
        })));""")
    filt = d.execute_script("""
        const f = document.getElementById('filter');
        const t0 = performance.now();
        f.value = 'sensor9999';
        f.dispatchEvent(new Event('input'));
        const rows = Array.from(document.querySelectorAll('#rooms-viewport .list-row')).filter(r => !r.hidden);
        return [performance.now() - t0, rows.map(r => r.firstChild.textContent)];""")

    out = os.path.join(os.environ.get("O", os.path.join(top, "build")), "tests", "cockpit")
    os.makedirs(out, exist_ok=True)
    d.execute_script("document.getElementById('rooms-viewport').scrollTop = 0;"
                     "document.getElementById('filter').value = '';"
                     "document.getElementById('filter').dispatchEvent(new Event('input'));")
    d.save_screenshot(os.path.join(out, f"bench-{a.units}.png"))
    med = statistics.median(upd)
    p95 = sorted(upd)[int(len(upd) * 0.95) - 1]
    print(f"cockpit page, {units_shown} units, one Readings signal of {a.units} entries a second, "
          f"{len(upd)} signals:")
    print(f"  first rows on screen:        {first:.0f} ms after the page was asked for")
    print(f"  per signal, page's handler:  median {med:.1f} ms, p95 {p95:.1f} ms, max {max(upd):.1f} ms")
    print(f"  per signal, JSON parse:      median {statistics.median(parse):.1f} ms")
    print(f"  scroll to the middle:        {scroll[0]:.1f} ms to the next frame (first row {scroll[1]})")
    print(f"  filter 'sensor9999':         {filt[0]:.1f} ms, rows {filt[1]}")
    print(f"  rows in the DOM:             {dom_rows}")
    ok = True
    for what, good in ((f"all {a.units} units loaded", units_shown == a.units),
                       ("the list is virtualised (under 100 rows in the DOM)", dom_rows < 100),
                       ("the filter finds sensor9999 alone", filt[1] == ["sensor9999"])):
        print(("PASS: " if good else "FAIL: ") + what)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
