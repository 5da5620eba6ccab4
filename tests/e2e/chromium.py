"""A headless Chromium driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-terminated JSON messages on file descriptors 3
and 4), with Python's standard library only. For the HTML report's test: load
a page, record every console message, exception and network request, read
values out of the page, take a screenshot.

    with Browser() as b:
        page = b.load("/abs/path/report.html")
        page.console, page.exceptions, page.requests
        b.evaluate("document.title"); b.screenshot("out.png")
"""
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    def __init__(self):
        self.console = []     # (level, text) of console API calls and log entries
        self.exceptions = []  # uncaught exceptions' descriptions
        self.requests = []    # every URL the page asked for, the page itself included
        self.loaded = False


class Browser:
    def __init__(self, width=1400, height=1000, timeout=60):
        self.exe = find_chromium()
        if not self.exe:
            raise RuntimeError("chromium not found: scripts/install-deps.sh installs Debian's 'chromium'")
        self.width, self.height, self.timeout = width, height, timeout
        self.next_id = 0
        self.buf = b""
        self.session = None
        self.page = None

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="popsift-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        # The child reads commands on fd 3 and writes replies on fd 4 (kept open: pass_fds).
        def fds():
            r, w = os.dup(to_child_r), os.dup(from_child_w)  # out of the way of 3 and 4 first
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [self.exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--disable-component-update",
                "--hide-scrollbars", "--mute-audio", "--user-data-dir=" + self.profile,
                f"--window-size={self.width},{self.height}", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=fds, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable", {}, session=True)
        return self

    def __exit__(self, *exc):
        try:
            self.call("Browser.close", {})
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _send(self, msg):
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_child], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def _event(self, msg):
        page, method, p = self.page, msg.get("method"), msg.get("params", {})
        if page is None:
            return
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            page.console.append((p.get("type"), text))
        elif method == "Log.entryAdded":
            page.console.append((p["entry"].get("level"), p["entry"].get("text")))
        elif method == "Runtime.exceptionThrown":
            page.exceptions.append(p["exceptionDetails"].get("text"))
        elif method == "Network.requestWillBeSent":
            page.requests.append(p["request"]["url"])
        elif method == "Page.loadEventFired":
            page.loaded = True

    def call(self, method, params, session=False):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)

    def load(self, path, settle=1.0):
        """Opens a file; returns its Page once loaded and `settle` seconds of quiet have passed."""
        self.page = Page()
        self.call("Page.navigate", {"url": "file://" + os.path.abspath(path)}, session=True)
        deadline = time.monotonic() + self.timeout
        while not self.page.loaded:
            self._event(self._read(deadline))
        quiet = time.monotonic() + settle
        try:
            while True:
                self._event(self._read(quiet))
        except TimeoutError:
            pass
        return self.page

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, out, full=True):
        """A PNG of the page (whole height when full)."""
        height = self.evaluate("document.documentElement.scrollHeight") if full else self.height
        self.call("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": min(int(height), 16000),
                                                         "deviceScaleFactor": 1, "mobile": False}, session=True)
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full}, session=True)
        with open(out, "wb") as f:
            f.write(base64.b64decode(data["data"]))
        return out
