#!/usr/bin/python3
"""browser.py --console LOG --port-file FILE --vm-pid PID --out DIR [--timeout S]

The host's half of the Cockpit test (tests/vm/product/cockpit.sh is the
guest's): Debian's Chromium, driven by selenium through chromium-driver,
uses the coldroom page of the guest's Cockpit as the people would, through
the port vm-run --forward picked. It follows the guest's console LOG until
the guest says COCKPIT-READY (with coldroomctl's view of the units), then:

  - viewer logs in, tries to acknowledge the open alarm: refused, the
    reason on the page; logs out;
  - operator1 logs in: the rooms list shows every unit with coldroomctl's
    label (markup shown as text), firmware state, alarm and readings (the
    guest holds them still: to the digit); the filter finds the unit in
    alarm; a wrong password is refused; acknowledges the alarm with a
    comment and the password;
    the unit's page draws the history chart and lists the acknowledgement
    in the audit trail under operator1's name; the record verifies; logs
    out (the guest waits for that, then checks the audit trail).

Screenshots of each step go to DIR. Every wait is bounded and scaled by
WAIT_SCALE. Exit status 0 when every check passed.
"""
import argparse
import json
import os
import re
import shutil
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

SCALE = max(1.0, float(os.environ.get("WAIT_SCALE", "1")))
PASSWORDS = {"operator1": "Op-one-0815", "viewer": "View-only-4711",
             "plantadmin": "Plant-admin-4711"}
COMMENT = "door closed, stock checked (Cockpit)"
PAGE_FRAME = "cockpit1:localhost/coldroom"

failures = 0


def log(*a):
    print(*a, flush=True)


def check(what, ok):
    global failures
    log(("PASS: " if ok else "FAIL: ") + what)
    if not ok:
        failures += 1
    return ok


def follow_console(path, pid, timeout):
    """The coldroomctl list the guest printed, once it printed COCKPIT-READY."""
    deadline = time.monotonic() + timeout
    listing = None
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    if line.startswith("COLDROOMCTL-LIST "):
                        listing = json.loads(line[len("COLDROOMCTL-LIST "):])
                    elif line.strip() == "COCKPIT-READY":
                        return listing
        except FileNotFoundError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        time.sleep(1)  # polling a file, not waiting for an event
    return None


def headless_chromium():
    """Debian's chromium and chromium-driver, or Fedora's chromium-browser and
    chromedriver (make deps), headless, a window of 1440x960."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        sys.exit("no chromium or chromedriver: run 'make deps'")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--window-size=1440,960", "--lang=en-GB"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(driver), options=opts)


class Browser:
    def __init__(self, base, out):
        self.base = base
        self.out = out
        self.d = headless_chromium()
        self.d.set_page_load_timeout(60 * SCALE)

    def wait(self, cond, seconds=30):
        return WebDriverWait(self.d, seconds * SCALE, poll_frequency=0.2).until(cond)

    def shot(self, name):
        path = os.path.join(self.out, name + ".png")
        self.d.switch_to.default_content()
        self.d.save_screenshot(path)
        log("screenshot: " + path)
        self.frame()

    def login(self, user):
        d = self.d
        d.delete_all_cookies()
        d.get(self.base + "/coldroom")
        self.wait(EC.visibility_of_element_located((By.ID, "login-user-input")), 60)
        d.find_element(By.ID, "login-user-input").send_keys(user)
        d.find_element(By.ID, "login-password-input").send_keys(PASSWORDS[user])
        d.find_element(By.ID, "login-button").click()
        self.frame(120)

    def frame(self, seconds=30):
        self.d.switch_to.default_content()
        self.wait(EC.frame_to_be_available_and_switch_to_it((By.NAME, PAGE_FRAME)), seconds)

    def logout(self):
        d = self.d
        d.switch_to.default_content()
        d.find_element(By.ID, "toggle-menu").click()
        self.wait(EC.element_to_be_clickable((By.ID, "logout"))).click()
        self.wait(EC.visibility_of_element_located((By.ID, "login-user-input")), 60)

    def tab(self, screen):
        self.d.find_element(By.ID, "tab-" + screen).click()
        self.wait(EC.visibility_of_element_located((By.ID, screen)))

    def rows(self):
        return self.d.execute_script("""
            return Array.from(document.querySelectorAll('#rooms-viewport .list-row'))
                .filter(r => !r.hidden)
                .map(r => Array.from(r.children).map(c => c.textContent));""")

    def ack(self, user, serial, probe, comment, password=None):
        """Acknowledge from the Alarms screen: the dialog's outcome, the error text or ''."""
        d = self.d
        self.close_dialog()
        self.tab("alarms")
        button = self.wait(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, f'#alarms-body tr[data-serial="{serial}"][data-probe="{probe}"] button.ack')))
        button.click()
        self.wait(EC.visibility_of_element_located((By.ID, "ack-comment"))).send_keys(comment)
        d.find_element(By.ID, "ack-password").send_keys(password or PASSWORDS[user])
        d.find_element(By.ID, "ack-submit").click()
        # Done: the dialog closed, or it shows why not.
        self.wait(lambda d: not d.find_element(By.ID, "ack-dialog").get_attribute("open")
                  or d.find_element(By.ID, "ack-error").is_displayed(), 120)
        err = d.find_element(By.ID, "ack-error")
        return err.text if err.is_displayed() else ""

    def close_dialog(self):
        if self.d.find_element(By.ID, "ack-dialog").get_attribute("open"):
            self.d.find_element(By.ID, "ack-cancel").click()


def temp_of(text):
    m = re.match(r"^(-?[0-9]+\.[0-9]+)\s°C$", text)
    return float(m.group(1)) if m else None


def operator_checks(b, listing):
    d = b.d
    b.wait(lambda d: len(b.rows()) >= len(listing), 60)
    rows = {r[0]: r for r in b.rows()}
    for u in listing:
        r = rows.get(u["unit"])
        if not check(f"rooms: {u['unit']} is listed", r is not None):
            continue
        check(f"rooms: {u['unit']}'s label is coldroomctl's, as text: {r[1]!r}", r[1] == u["label"])
        for ch in (1, 2):
            want = u[f"temp{ch}"]
            got = temp_of(r[1 + ch])
            ok = want is not None and got is not None and f"{got:.2f}" == f"{want / 1000:.2f}"
            check(f"rooms: {u['unit']} probe {ch} shows {r[1 + ch]!r}, coldroomctl read "
                  f"{want / 1000 if want is not None else None} °C", ok)
        alarm = "probe 1" in r[7] if u["temp1_alarm"] else "probe 1" not in r[7]
        check(f"rooms: {u['unit']}'s alarm column {r[7]!r} agrees (temp1_alarm {u['temp1_alarm']})", alarm)
        check(f"rooms: {u['unit']}'s firmware {r[8]!r} is {u['firmware_state']}",
              r[8].startswith(u["firmware_state"]))
    b.shot("rooms")

    filt = d.find_element(By.ID, "filter")
    filt.send_keys("alarm")
    b.wait(lambda d: all(r[4] == "alarm" for r in b.rows()))
    in_alarm = sorted(r[0] for r in b.rows())
    want = sorted(u["unit"] for u in listing if u["temp1_alarm"] or u["temp2_alarm"])
    check(f"rooms: the filter 'alarm' leaves {in_alarm}, the units in alarm", in_alarm == want)
    b.shot("rooms-filtered")
    filt.clear()
    filt.send_keys(" ")  # an input event: the whole list again
    b.wait(lambda d: len(b.rows()) >= len(listing))

    err = b.ack("operator1", "SIM-000001", 1, "wrong password", password="not-my-password")
    check(f"alarms: operator1's wrong password is refused on the page: {err!r}",
          err.startswith("Not acknowledged: the password was not accepted.") and "\x1b" not in err)
    b.shot("alarms-wrong-password")
    row = d.find_element(By.CSS_SELECTOR, '#alarms-body tr[data-serial="SIM-000001"][data-probe="1"]')
    check("alarms: and the alarm is still raised", "raised" in row.text)
    err = b.ack("operator1", "SIM-000001", 1, COMMENT)
    check(f"alarms: operator1 acknowledges SIM-000001 probe 1 from the page ({err or 'no error'})", err == "")
    try:
        b.wait(lambda d: "operator1" in d.find_element(
            By.CSS_SELECTOR, '#alarms-body tr[data-serial="SIM-000001"][data-probe="1"]').text, 30)
        check("alarms: the alarm shows as acknowledged by operator1 with the comment",
              COMMENT in d.find_element(By.CSS_SELECTOR, '#alarms-body tr[data-serial="SIM-000001"]').text)
    except TimeoutException:
        check("alarms: the alarm shows as acknowledged by operator1", False)
    b.shot("alarms-acknowledged")
    b.close_dialog()

    unit = next(u["unit"] for u in listing if u["serial"] == "SIM-000001")
    b.tab("rooms")
    b.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, f'#rooms-viewport a[href="#/unit/{unit}"]'))).click()
    b.wait(EC.visibility_of_element_located((By.ID, "unit")))
    try:
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-1 svg path.mean")
               and d.find_elements(By.CSS_SELECTOR, "#chart-2 svg path.mean"), 60)
        rows1 = int(d.find_element(By.ID, "chart-1").get_attribute("data-rows") or 0)
        check(f"unit: the history chart of both probes is drawn ({rows1} rows of probe 1, "
              "min..max band, mean, alarm band)",
              rows1 > 0 and d.find_elements(By.CSS_SELECTOR, "#chart-1 svg path.band")
              and d.find_elements(By.CSS_SELECTOR, "#chart-1 svg line.limit"))
    except TimeoutException:
        check("unit: the history chart is drawn", False)
    try:
        b.wait(lambda d: any("alarm-acknowledged" in r.text and "operator1" in r.text
                             for r in d.find_elements(By.CSS_SELECTOR, "#events-body tr")), 60)
        check("unit: the audit trail lists the acknowledgement under operator1's name", True)
    except TimeoutException:
        check("unit: the audit trail lists the acknowledgement under operator1's name", False)
    # SIM-000001 is a CRS-210T, which has a thermal imager.
    try:
        b.wait(lambda d: d.execute_script(
            "const i = document.getElementById('frame');"
            "return !i.hidden && i.complete && i.naturalWidth > 0;"), 60)
        size = d.execute_script("const i = document.getElementById('frame');"
                                "return [i.naturalWidth, i.naturalHeight];")
        check(f"unit: its thermal frame is shown ({size[0]}x{size[1]} image)", size[0] > 0)
    except TimeoutException:
        check("unit: its thermal frame is shown (" + d.find_element(By.ID, "frame-note").text + ")",
              False)
    b.shot("unit")
    d.execute_script("document.getElementById('frame-card').scrollIntoView()")
    b.shot("unit-frame")

    b.tab("record")
    d.find_element(By.ID, "verify").click()
    try:
        b.wait(lambda d: d.find_element(By.ID, "verify-result").text.startswith(("Intact", "NOT", "Cannot")), 60)
        text = d.find_element(By.ID, "verify-result").text
        check(f"record: the recorder verifies the record: {text}", text.startswith("Intact"))
    except TimeoutException:
        check("record: the recorder answers Verify", False)
    d.find_element(By.ID, "report").click()
    try:
        b.wait(lambda d: d.execute_script("return window.coldroomStats.lastDownload") or
               d.find_element(By.ID, "report-result").text.startswith("No report"), 120)
        got = d.execute_script("return window.coldroomStats.lastDownload")
        text = d.find_element(By.ID, "report-result").text
        check(f"record: the day's report downloads as a PDF ({text})",
              bool(got) and got["magic"] == "%PDF-" and got["size"] > 1000)
    except TimeoutException:
        check("record: the day's report downloads", False)
    b.shot("record")


def admin_checks(b, listing):
    """An administrator changes a unit's label and a band on the page, with
    their password; the rooms list follows coldroomd."""
    d = b.d
    unit = next(u["unit"] for u in listing if u["serial"] == "SIM-000002")
    b.tab("rooms")
    b.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, f'#rooms-viewport a[href="#/unit/{unit}"]'))).click()
    b.wait(EC.visibility_of_element_located((By.ID, "settings-form")))
    b.wait(lambda d: d.find_element(By.ID, "set-interval").get_attribute("value") != "")
    label = d.find_element(By.ID, "set-label")
    label.clear()
    label.send_keys("Freezer C")
    band = d.find_element(By.ID, "set-max2")
    band.clear()
    band.send_keys("-12")
    d.find_element(By.ID, "settings-change").click()
    b.wait(EC.visibility_of_element_located((By.ID, "settings-password")))
    changes = [li.text for li in d.find_elements(By.CSS_SELECTOR, "#settings-changes li")]
    check(f"admin: the dialog lists only what changed: {changes}",
          changes == ["label=Freezer C", "temp2.max=-12000"])
    d.find_element(By.ID, "settings-password").send_keys(PASSWORDS["plantadmin"])
    b.shot("admin-settings")
    d.find_element(By.ID, "settings-submit").click()
    try:
        b.wait(lambda d: not d.find_element(By.ID, "settings-dialog").get_attribute("open")
               or not d.find_element(By.ID, "settings-error").get_attribute("hidden"), 180)
        err = d.find_element(By.ID, "settings-error")
        check("admin: the change is made with the password" +
              ("" if err.get_attribute("hidden") else f" ({err.text})"),
              bool(err.get_attribute("hidden")))
    except TimeoutException:
        check("admin: the change is made with the password", False)
    b.tab("rooms")
    try:
        b.wait(lambda d: any(r[0] == unit and r[1] == "Freezer C" and "-12.0" in r[6]
                             for r in b.rows()), 60)
        check("admin: the rooms list shows the new label and band", True)
    except TimeoutException:
        check(f"admin: the rooms list shows the new label and band ({b.rows()})", False)
    b.shot("admin-rooms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--vm-pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=float, default=1200)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    listing = follow_console(a.console, a.vm_pid, a.timeout)
    if not listing:
        log("FAIL: the guest never said COCKPIT-READY with coldroomctl's list")
        return 1
    with open(a.port_file) as f:
        port = int(f.read())
    log(f"guest ready: {len(listing)} units; Cockpit on 127.0.0.1:{port}")
    b = Browser(f"http://127.0.0.1:{port}", a.out)
    try:
        b.login("viewer")
        err = b.ack("viewer", "SIM-000001", 1, "viewer tries")
        check(f"viewer: acknowledging is refused with the reason on the page: {err!r}",
              "Not allowed" in err and "viewer is not allowed" in err)
        b.shot("viewer-refused")
        b.close_dialog()
        b.logout()

        b.login("operator1")
        operator_checks(b, listing)
        b.logout()

        b.login("plantadmin")
        admin_checks(b, listing)
        b.logout()
    except (TimeoutException, WebDriverException) as e:
        check(f"the browser got through the page ({type(e).__name__}: {e.msg if hasattr(e, 'msg') else e})", False)
        try:
            b.shot("failure")
        except WebDriverException:
            pass
    finally:
        b.d.quit()
    log(f"RESULT: {failures} failure(s)" if failures else "RESULT: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
