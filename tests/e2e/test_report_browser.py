#!/usr/bin/env python3
"""Issue 18: the HTML report of the bundled samples in a real browser.
Headless Chromium (chromium.py, the DevTools protocol over a pipe) loads the
page and must see no console message of level warning or error, no exception
and no request but the page itself; the numbers on the page must be those the
events give; a screenshot goes to build/report-screenshot.png for a person to
look at. A page built from a hostile capture runs nothing and loads nothing.
Usage: test_report_browser.py POPSIFT [NAME...]
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Browser  # noqa: E402
from runner import Suite, expect  # noqa: E402

SUITE = Suite("report-browser")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP = tempfile.mkdtemp(prefix="popsift-browser-")
SAMPLES = ["dovecot-pop3.pcap", "dovecot-sasl.pcap", "mailbox/fetchmail-keep.pcap", "mailbox/dele.pcap",
           "mime/mime-pop3.pcap", "pop2/pop2.pcap"]
SCREENSHOT = os.path.join(ROOT, "build", "report-screenshot.png")


def run(*args, stdin=None):
    p = subprocess.run([SUITE.popsift, *args], input=stdin, capture_output=True, timeout=300)
    expect(p.returncode == 0, (args, p.stderr.decode()[-800:]))
    return p.stdout


def samples_page():
    """The events and the HTML report of the bundled samples, messages extracted beside the page."""
    inputs = sum((["-r", os.path.join(ROOT, "samples", s)] for s in SAMPLES), [])
    ev = run("-q", "--show-passwords", "-x", os.path.join(TMP, "messages"), *inputs)
    page = os.path.join(TMP, "report.html")
    run("report", "-q", "-x", os.path.join(TMP, "messages"), "--html", page, stdin=ev)
    return [json.loads(l) for l in ev.splitlines()], page


def expected_numbers(events):
    """What the summary must say, counted from the events here, independently of popsift."""
    by = collections.defaultdict(list)
    for e in events:
        by[e["event_type"]].append(e)
    auth = [e["auth"] for e in by["auth"]]
    result = collections.Counter(a["result"] for a in auth)
    tls = [e["tls"] for e in by["tls"]]
    versions = collections.Counter(t["version"] if "version" in t else "no ServerHello"
                                   for t in tls if "certificate_status" in t)  # a TLS session's event
    return {
        "captures": len({e["pcap_file"] for e in events}),
        "sessions": len(by["session"]),
        "servers": len({(e["dest_ip"], e["dest_port"]) for e in by["session"]}),
        "users": len({a["username"] for a in auth if a["username"]}),
        "logins": len(auth),
        "logins-success": result["success"],
        "logins-failure": result["failure"],
        "logins-unknown": result["unknown"],
        "cleartext": sum(a["cleartext"] for a in auth),
        "alerts": len(by["alert"]),
        "messages": len(by["message"]),
        "stls": sum(t.get("command") == "STLS" and t["result"] == "success" for t in tls),
        "encrypted": sum(e["session"]["tls"] or e["session"]["encrypted"] for e in by["session"]),
        "tls-sessions": sum(versions.values()),
        **{"tls-" + v: n for v, n in versions.items()},
    }


NUMBERS_JS = ("JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-n]')]"
              ".map(e => [e.dataset.n, Number(e.textContent)])))")


def quiet(page):
    """No console warning or error, no exception, nothing fetched but the page."""
    bad = [c for c in page.console if c[0] in ("warning", "error", "assert")]
    expect(not bad and not page.exceptions, (bad, page.exceptions))
    expect(len(page.requests) == 1 and page.requests[0].startswith("file://"), page.requests)


@SUITE.test
def the_samples_report_loads_clean_and_shows_the_events_numbers():
    events, page = samples_page()
    with Browser(width=1400, height=1000) as b:
        p = b.load(page)
        quiet(p)
        got = json.loads(b.evaluate(NUMBERS_JS))
        want = expected_numbers(events)
        expect(got == want, {k: (got.get(k), want[k]) for k in want if got.get(k) != want[k]})
        # the page holds what the events hold: every sha256 of the messages, every capture file
        text = b.evaluate("document.body.innerText")
        for e in events:
            if e["event_type"] == "message":
                expect(e["message"]["sha256"][:16] in text, e["message"]["sha256"])
        links = b.evaluate("[...document.querySelectorAll('a[href$=\".eml\"]')].map(a => a.href)")
        expect(len(links) == want["messages"], (len(links), want["messages"]))
        for url in links:  # every link opens an extracted file
            expect(os.path.isfile(url[len("file://"):]), url)
        bars = b.evaluate("document.querySelectorAll('#timeline .tlwrap rect.s').length")
        expect(bars == want["sessions"], (bars, want["sessions"]))
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        b.screenshot(SCREENSHOT)
        expect(os.path.getsize(SCREENSHOT) > 10000, "empty screenshot")


@SUITE.test
def a_tls_capture_s_page_shows_the_events_tls_numbers():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_tls
    c = test_tls.corpus()  # every TLS fixture, TLS 1.0 to 1.3, with its keys
    ev = run("-q", "--tls-keylog", c["keys"], "-r", c["pcap"])
    page = os.path.join(TMP, "tls.html")
    run("report", "-q", "--html", page, stdin=ev)
    shutil.rmtree(test_tls.WORK, ignore_errors=True)
    events = [json.loads(l) for l in ev.splitlines()]
    with Browser() as b:
        quiet(b.load(page))
        got = json.loads(b.evaluate(NUMBERS_JS))
        want = expected_numbers(events)
        expect(got == want, {k: (got.get(k), want.get(k)) for k in set(want) | set(got) if got.get(k) != want.get(k)})
        expect(want["tls-sessions"] > 20 and "tls-TLS 1.3" in want and "tls-TLS 1.0" in want, want)


@SUITE.test
def a_hostile_capture_s_page_runs_nothing_and_loads_nothing():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_report
    test_report.SUITE.popsift = SUITE.popsift
    page = test_report.hostile_page()
    shutil.copy(os.path.join(test_report.TMP, "hostile.html"), os.path.join(TMP, "hostile.html"))
    with Browser() as b:
        p = b.load(os.path.join(TMP, "hostile.html"))
        quiet(p)
        expect(b.evaluate("document.title") == "popsift case report", b.evaluate("document.title"))
        n = b.evaluate("document.querySelectorAll('script,img,iframe,object,embed,form,style').length")
        expect(n == 1, n)  # the page's own style element, nothing the capture brought
        expect(test_report.HOSTILE_USER.decode() in b.evaluate("document.body.innerText"), page[:200])
    shutil.rmtree(test_report.TMP, ignore_errors=True)


def main():
    rc = SUITE.main()
    shutil.rmtree(TMP, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
