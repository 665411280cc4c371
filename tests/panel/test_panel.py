"""ovz-panel (examples/panel) as its users meet it: over HTTP without a login, and in a real
browser (headless Chromium through Selenium): log in, create a VE, start it, set numproc, see
a fork bomb run inside through the API push failcnt up on the page as it happens, stop and
destroy it. Screenshots go to $OVZ_PANEL_ARTIFACTS (default: a temporary directory, named).

Run as root with the ovz module and the panel importable (ctest's `panel` sets PYTHONPATH).
"""

import ctypes
import http.cookiejar
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import ovz

PANEL = pathlib.Path(__file__).resolve().parents[2] / "examples" / "panel" / "ovz-panel"
CTID = 9496
PR_SET_CHILD_SUBREAPER = 36
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="VEs need root")


@pytest.fixture
def panel(tmp_path):
    """A panel of its own state root, on a free port of 127.0.0.1: (url, password, root,
    its PID)."""
    root = tmp_path / "root"
    proc = subprocess.Popen(
        [sys.executable, str(PANEL), "--root", str(root), "--port", "0",
         "--password-file", str(tmp_path / "passwd"), "--interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ovz-panel: http://"), line + proc.stderr.read()
        first = proc.stderr.readline()
        password = re.search(r"the password is (\S+)", first)
        assert password, first
        yield line.split()[1].rstrip("/"), password.group(1), root, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for st in ovz.list_ves(root):
            ve = ovz.VE(st.ctid, root)
            if st.state == "running":
                ve.stop(fast=True)
            ve.destroy()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _request(url, data=None, cookies=None):
    """(status, location) of one request, redirects not followed."""
    handlers = [_NoRedirect]
    if cookies is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(cookies))
    opener = urllib.request.build_opener(*handlers)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=10) as r:
            return r.status, r.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location")


def test_without_a_login_nothing_is_shown_and_nothing_changes(panel):
    url, password, root, _ = panel
    assert _request(url + "/") == (303, "/login")
    assert _request(url + "/ve/1") == (303, "/login")
    assert _request(url + "/events")[0] == 403
    for path, form in [("/ve", {"ctid": "9497", "ostemplate": "busybox"}),
                       ("/ve/9497/action", {"action": "start"}),
                       ("/ve/9497/set", {"resource": "numproc", "value": "1"})]:
        assert _request(url + path, form)[0] == 403, path
    assert _request(url + "/login", {"password": password + "x"})[0] == 403
    assert ovz.list_ves(root) == []
    # A session's cookie alone changes nothing either (what another site's page could post
    # with it): a form carries the session's token.
    cookies = http.cookiejar.CookieJar()
    assert _request(url + "/login", {"password": password}, cookies) == (303, "/")
    assert _request(url + "/", cookies=cookies)[0] == 200
    assert _request(url + "/ve", {"ctid": "9497", "ostemplate": "busybox"}, cookies)[0] == 403
    assert _request(url + "/ve", {"ctid": "9497", "csrf": "guessed"}, cookies)[0] == 403
    assert ovz.list_ves(root) == []


def _adopt_orphans():
    """Makes this process the reaper of what its children leave: Chromium's helpers outlive
    the driver that started them, and where PID 1 reaps nothing they would stay zombies."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        pytest.fail(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def _reap_orphans(timeout=10.0):
    """Waits for Chromium's processes adopted to end, and reaps every child that has."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for pid in _children():
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0 and "chrom" in _exe(pid):
                    left.append(pid)
            except ChildProcessError:
                pass
        if not left:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"Chromium's processes {left} did not end")
        time.sleep(0.1)


def _children():
    me = str(os.getpid())
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[1] == me:
                    out.append(int(p))
        except (OSError, IndexError):
            pass
    return out


def _exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def _browser():
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("Chromium or its driver is missing (Debian: chromium chromium-driver, "
                    "see install-deps.sh)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="Selenium is missing (Debian: python3-selenium)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1400"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


def _lost_node(error):
    """Whether Selenium's error says the element left the document it was found in."""
    return type(error).__name__ == "StaleElementReferenceException" or (
        "does not belong to the document" in str(error))


def _artifacts():
    where = os.environ.get("OVZ_PANEL_ARTIFACTS") or tempfile.mkdtemp(prefix="ovz-panel-shots-")
    os.makedirs(where, exist_ok=True)
    return pathlib.Path(where)


def _wait_for(check, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.2)


def test_in_a_browser_a_fork_bomb_shows_as_failcnt(panel):
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    url, password, root, _ = panel
    shots = _artifacts()
    _adopt_orphans()
    browser = _browser()
    try:
        def text(selector):
            return browser.find_element(By.CSS_SELECTOR, selector).text

        def click(by, value):
            """Clicks what submits a form and waits for the page it leads to. The element is
            looked up afresh for each try: under load ChromeDriver now and then refuses a click
            on a node it found a moment before ("does not belong to the document")."""
            for attempt in range(3):
                page = browser.find_element(By.TAG_NAME, "html")
                try:
                    browser.find_element(by, value).click()
                except (StaleElementReferenceException, WebDriverException) as e:
                    if attempt == 2 or not _lost_node(e):
                        raise
                    time.sleep(0.2)
                    continue
                WebDriverWait(browser, 30).until(lambda _: left(page))
                return

        def left(page):
            """Whether the browser has left `page`: Selenium's staleness_of, but for the other
            way ChromeDriver now and then says so ("does not belong to the document")."""
            try:
                return staleness_of(page)(browser)
            except WebDriverException as e:
                if _lost_node(e):
                    return True
                raise

        def submit(form_id, **fields):
            form = browser.find_element(By.ID, form_id)
            for name, value in fields.items():
                field = form.find_element(By.NAME, name)
                if field.tag_name == "select":
                    field.find_element(By.XPATH, f".//option[. = '{value}']").click()
                else:
                    field.clear()
                    field.send_keys(value)
            click(By.CSS_SELECTOR, f"#{form_id} button[type=submit]")

        def flash():
            """The message the page leads with, once the page has it."""
            shown = _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".flash"),
                              "a message on the page", timeout=10)
            return shown[0].text

        browser.get(url + "/")
        assert browser.current_url.endswith("/login")
        browser.find_element(By.ID, "password").send_keys("not it")
        click(By.ID, "login")
        assert "Wrong password" in flash()
        browser.find_element(By.ID, "password").send_keys(password)
        click(By.ID, "login")
        assert browser.find_element(By.ID, "ves")

        # Bad input: the library's own message, and no VE.
        submit("create", ctid="0", hostname="bad")
        assert "Invalid CTID" in flash(), flash()
        assert ovz.list_ves(root) == []

        submit("create", ctid=str(CTID), hostname="panel-test", config="basic")
        assert f"VE {CTID} created" in flash()
        click(By.ID, "start")
        assert f"VE {CTID} started" in flash()
        assert text("#state") == "running"
        submit("set-limit", resource="numproc", value="lots")
        assert "lots" in flash() and "numproc" in flash(), flash()
        submit("set-limit", resource="numproc", value="24:24")
        assert "numproc 24:24" in flash()
        assert text('tr[data-resource="numproc"] td[data-col="limit"]') == "24"
        assert text('tr[data-resource="numproc"] td[data-col="failcnt"]') == "0"
        browser.save_screenshot(str(shots / "1-ve-running.png"))

        # The bomb through the API, not the page: the page learns of it by itself.
        ve = ovz.VE(CTID, root)
        code, _, _ = ve.exec(["/bin/sh", "-c",
                              "exec </dev/null >/dev/null 2>&1; b() { b | b & }; b"])
        assert code == 0
        _wait_for(lambda: int(text('tr[data-resource="numproc"] td[data-col="failcnt"]')) > 0,
                  "failcnt of numproc to rise on the page")
        _wait_for(lambda: "numproc: failcnt" in text("#events"), "the refusal in the events")
        # Contained: the VE holds no more processes than numproc lets it.
        held = int(text('tr[data-resource="numproc"] td[data-col="held"]'))
        assert held <= 24
        browser.save_screenshot(str(shots / "2-fork-bomb-failcnt.png"))

        click(By.ID, "stop_fast")
        assert f"VE {CTID} stopped" in flash()
        click(By.ID, "destroy")
        assert "really" in flash()
        assert [st.ctid for st in ovz.list_ves(root)] == [CTID]
        browser.find_element(By.ID, "confirm-destroy").click()
        click(By.ID, "destroy")
        assert f"VE {CTID} destroyed" in flash()
        assert ovz.list_ves(root) == []
        browser.save_screenshot(str(shots / "3-destroyed.png"))
        print(f"screenshots in {shots}")
    finally:
        browser.quit()
        _reap_orphans()
