#!/usr/bin/env python3
"""Issue 18, end to end: `popsift report` rebuilds from the JSON events what
the capture run wrote (the mailbox report, the cross-session alerts, the -T
text summary, the HTML report) byte for byte, for every end-to-end capture,
for several runs concatenated, from compressed files and standard input; it
refuses events of a newer schema_version; and the HTML report holds nothing
from the wire that a browser would take for markup. The HTML page in a real
browser: test_report_browser.py. Usage: test_report.py POPSIFT [NAME...]
"""
import gzip
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import Capture  # noqa: E402
from runner import Suite, expect  # noqa: E402

SUITE = Suite("report")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP = tempfile.mkdtemp(prefix="popsift-report-")
CROSS = ("brute-force", "password-spray")


def captures():
    """(capture, options) of every end-to-end capture and bundled sample."""
    out = []
    with open(os.path.join(ROOT, "tests", "e2e", "LIST")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, cap, _, *opts = line.split()  # passwords: each test says whether it shows them
                out.append((os.path.join(ROOT, cap), [o for o in opts if o != "--show-passwords"]))
    for cap in ("mailbox/fetchmail-keep.pcap", "mailbox/dele.pcap", "mime/mime-pop3.pcap", "pop2/pop2.pcap"):
        out.append((os.path.join(ROOT, "samples", cap), []))
    return out


def run(*args, stdin=None, ok=True, env=None):
    p = subprocess.run([SUITE.popsift, *args], input=stdin, capture_output=True, timeout=300,
                       env=dict(os.environ, **(env or {})))
    if ok:
        expect(p.returncode == 0, (args, p.returncode, p.stderr.decode()[-800:]))
    return p


def path(name):
    return os.path.join(TMP, name)


def read(name):
    with open(path(name), "rb") as f:
        return f.read()


def cross_alerts(events):
    return b"".join(l + b"\n" for l in events.splitlines()
                    if b'"event_type":"alert"' in l and any(s.encode() in l for s in CROSS))


def without_frames(out):
    """Events or an HTML page without their frame numbers: a run numbers the frames of all the
    files it reads, so runs over one capture each number them apart (docs/events.md, pcap_cnt)."""
    out = re.sub(rb'"pcap_cnt(_first)?":\d+,', b"", out)
    return re.sub(rb"<br>frames? <code>\d+</code>(&ndash;<code>\d+</code>)?", b"", out)


@SUITE.test
def every_event_read_back_and_written_again_is_the_same_bytes():
    # the strongest form of "same records": every field every writer uses survives the trip
    for cap, opts in captures():
        ev = run("-q", *opts, "--show-passwords", "--transactions", "-r", cap).stdout
        again = run("report", "-q", "--show-passwords", stdin=ev, env={"POPSIFT_REPORT_EVENTS": "1"}).stdout
        expect(again == ev, (cap, [(a, b) for a, b in zip(ev.splitlines(), again.splitlines()) if a != b][:1]))


@SUITE.test
def the_mailbox_report_and_alerts_from_events_equal_the_capture_runs():
    for cap, opts in captures():
        for sp in ([], ["--show-passwords"]):
            ev = run("-q", *opts, *sp, "-r", cap, "--mailbox-report", path("a.json")).stdout
            alerts = run("report", "-q", "--mailbox-report", path("b.json"), stdin=ev).stdout
            expect(read("a.json") == read("b.json"), (cap, read("a.json")[:300], read("b.json")[:300]))
            expect(alerts == cross_alerts(ev), (cap, alerts[:300]))


@SUITE.test
def the_text_summary_and_its_mailbox_report_equal_the_capture_runs():
    for cap, opts in captures():
        for sp in ([], ["--show-passwords"]):
            direct = run("-q", *opts, *sp, "-T", "text", "--mailbox-report", "-", "-r", cap).stdout
            ev = run("-q", *opts, *sp, "-r", cap).stdout
            again = run("report", "-q", *sp, "-T", "text", "--mailbox-report", "-", stdin=ev).stdout
            expect(direct == again, (cap, sp, direct[-300:], again[-300:]))


@SUITE.test
def the_html_report_equals_the_capture_runs_t_html():
    for cap, opts in captures():
        run("-q", *opts, "--show-passwords", "-T", "html", "-o", path("a.html"), "-r", cap)
        ev = run("-q", *opts, "--show-passwords", "-r", cap).stdout
        run("report", "-q", "--show-passwords", "--html", path("b.html"), stdin=ev)
        expect(read("a.html") == read("b.html"), cap)


def tls_corpus():
    """test_tls.py's capture of every TLS fixture (TLS 1.0 to 1.3, STLS, resumed, expired and
    self-signed certificates) with its key log."""
    import test_tls
    return test_tls.corpus()


@SUITE.test
def tls_sessions_their_alerts_and_decrypted_logins_come_back_from_the_events():
    c = tls_corpus()
    for keys in ([], ["--tls-keylog", c["keys"]]):
        ev = run("-q", "--show-passwords", "--transactions", *keys, "-r", c["pcap"]).stdout
        evs = [json.loads(l) for l in ev.splitlines()]
        tls = [e["tls"] for e in evs if e["event_type"] == "tls"]
        sigs = {e["alert"]["signature"] for e in evs if e["event_type"] == "alert"}
        expect({"tls-weak-version", "tls-certificate-expired", "tls-self-signed"} <= sigs, sigs)
        expect(len(tls) > 20 and any(t.get("certificate") for t in tls), tls[:2])
        decrypted = [e for e in evs if e.get("tls", {}).get("decrypted") and e["event_type"] == "auth"]
        expect(bool(decrypted) == bool(keys), (keys, decrypted[:1]))
        again = run("report", "-q", "--show-passwords", stdin=ev, env={"POPSIFT_REPORT_EVENTS": "1"}).stdout
        expect(again == ev, (keys, [(a, b) for a, b in zip(ev.splitlines(), again.splitlines()) if a != b][:1]))
        for sp in ([], ["--show-passwords"]):
            direct = run("-q", *sp, *keys, "-T", "text", "--mailbox-report", "-", "-r", c["pcap"]).stdout
            ev = run("-q", *sp, *keys, "-r", c["pcap"]).stdout
            text = run("report", "-q", *sp, "-T", "text", "--mailbox-report", "-", stdin=ev).stdout
            expect(b"TLS on server" in direct and text == direct, (keys, sp, direct[-300:], text[-300:]))
            run("-q", *sp, *keys, "-T", "html", "-o", path("tls-a.html"), "-r", c["pcap"])
            run("report", "-q", *sp, "--html", path("tls-b.html"), stdin=ev)
            expect(read("tls-a.html") == read("tls-b.html"), (keys, sp))
        page = read("tls-b.html").decode()
        versions = {}
        for t in tls:
            if "version" in t:
                versions[t["version"]] = versions.get(t["version"], 0) + 1
        shown = {k: int(v) for k, v in re.findall(r'data-n="tls-(\w+ [\d.]+)">(\d+)<', page)}
        expect(shown == versions, (shown, versions))
        expect(f'data-n="tls-sessions">{len(tls) - sum("command" in t and "version" not in t for t in tls)}<'
               in page, page[:3000])


def brute_force_captures():
    """Three captures, four sessions each of one client failing logins for two users."""
    paths = []
    for k in range(3):
        cap = Capture()
        cap.t += k * 20
        for i in range(4):
            user = b"user%d" % (k * 4 + i) if k == 2 else b"admin"
            steps = [("s", b"+OK ready\r\n"), ("c", b"USER " + user + b"\r\n"), ("s", b"+OK\r\n"),
                     ("c", b"PASS guess%d\r\n" % i), ("s", b"-ERR [AUTH] Authentication failed.\r\n"),
                     ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
            cap.session(steps, client=("10.9.0.7", 41000 + k * 10 + i))
        paths.append(cap.write(path(f"bf{k}.pcap")))
    return paths


@SUITE.test
def three_runs_concatenated_report_what_one_run_over_the_three_does():
    caps = brute_force_captures()
    one = run("-q", "--mailbox-report", path("one.mbr"), *sum((["-r", c] for c in caps), [])).stdout
    expected = cross_alerts(one)
    sigs = [json.loads(l)["alert"]["signature"] for l in expected.splitlines()]
    expect(sorted(sigs) == ["brute-force", "password-spray"], sigs)  # 12 failures, 9 names in all
    runs = [run("-q", "-r", c).stdout for c in caps]
    expect(not any(cross_alerts(r) for r in runs), "one capture alone is under both thresholds")
    with open(path("r0.json"), "wb") as f:
        f.write(runs[0])
    with gzip.open(path("r1.json.gz"), "wb") as f:
        f.write(runs[1])
    with open(path("r2.json"), "wb") as f:
        f.write(runs[2])
    subprocess.run(["zstd", "-q", "-f", "--rm", path("r2.json"), "-o", path("r2.json.zst")], check=True)
    got = run("report", "-q", "--mailbox-report", path("three.mbr"), path("r0.json"), "-",
              path("r2.json.zst"), stdin=gzip.decompress(read("r1.json.gz"))).stdout
    expect(b'"pcap_cnt"' in got and without_frames(got) == without_frames(expected), (got, expected))
    expect(read("one.mbr") == read("three.mbr"), (read("one.mbr")[:200], read("three.mbr")[:200]))
    inputs = (path("r0.json"), path("r1.json.gz"), path("r2.json.zst"))
    direct = run("-q", "-T", "text", *sum((["-r", c] for c in caps), [])).stdout
    expect(direct == run("report", "-q", "-T", "text", *inputs).stdout, direct)
    run("-q", "-T", "html", "-o", path("one.html"), *sum((["-r", c] for c in caps), []))
    run("report", "-q", "--html", path("three.html"), *inputs)
    expect(b"frame <code>" in read("three.html"), "no frame numbers on the page")
    expect(without_frames(read("one.html")) == without_frames(read("three.html")),
           "HTML of one run and of three differ")


@SUITE.test
def the_thresholds_are_the_capture_runs_options():
    caps = brute_force_captures()
    ev = run("-q", "-r", caps[0]).stdout
    got = run("report", "-q", "--brute-force-failures", "3", "--spray-users", "0", stdin=ev).stdout
    alerts = [json.loads(l)["alert"] for l in got.splitlines()]
    expect([a["signature"] for a in alerts] == ["brute-force"], alerts)
    direct = run("-q", "--brute-force-failures", "3", "--spray-users", "0", "-r", caps[0]).stdout
    expect(got == cross_alerts(direct), (got, direct))


# What json.c writes that evread.c need not read, and why: values, not keys ("hashcat",
# "toclient": what is not "toserver"), and what the writers derive again from what is read
# (`anomalies` from anomaly_details, `messages_listed` from the listing, a session's `end` is
# its timestamp, `proto` is always TCP).
NOT_READ_BACK = {"hashcat", "toclient", "anomalies", "messages_listed", "end", "proto"}


def unread_keys(json_c, evread_c):
    """The names json.c's event writer puts in its JSON that evread.c never names."""
    events = json_c[:json_c.index("---- the --mailbox-report")]  # the mailbox report is not read
    events = re.sub(r"/\*.*?\*/", " ", events, flags=re.S)
    names = set(re.findall(r'"([a-z][a-z0-9_]*)"', events))
    return sorted(n for n in names - NOT_READ_BACK if f'"{n}"' not in evread_c)


@SUITE.test
def every_field_json_c_writes_is_named_by_evread_c():
    # the round trip proves it only for fields the e2e captures hold (no live kernel_drops, ...)
    def src(name):
        with open(os.path.join(ROOT, "output", name), encoding="utf-8") as f:
            return f.read()
    json_c, evread_c = src("json.c"), src("evread.c")
    expect(unread_keys(json_c, evread_c) == [], unread_keys(json_c, evread_c))
    for key in ("pcap_cnt", "snaplen_cut", "chain_length"):  # the check catches a field left out
        expect(unread_keys(json_c, evread_c.replace(f'"{key}"', '"x"')) == [key], key)


@SUITE.test
def fields_no_e2e_capture_holds_come_back_too():
    # live capture's kernel_drops, a snapshot length's cuts: spliced where json.c writes them
    ev = run("-q", "-r", os.path.join(ROOT, "samples", "mailbox", "dele.pcap")).stdout
    spliced = re.sub(rb'("gaps":\d+,)', rb'\1"kernel_drops":7,"snaplen_cut":3,', ev)
    expect(spliced.count(b'"kernel_drops":7') > 2, spliced[:500])
    again = run("report", "-q", stdin=spliced, env={"POPSIFT_REPORT_EVENTS": "1"}).stdout
    expect(again == spliced, [(a, b) for a, b in zip(spliced.splitlines(), again.splitlines()) if a != b][:1])


def events_of(cap="dovecot-pop3.pcap"):
    return run("-q", "-r", os.path.join(ROOT, "samples", cap)).stdout


@SUITE.test
def every_event_names_its_schema_version():
    for line in events_of().splitlines():
        e = json.loads(line)
        expect(e["schema_version"] == 1, e)
    s = [json.loads(l)["session"] for l in events_of("mailbox/dele.pcap").splitlines()
         if b'"event_type":"session"' in l]
    expect(s[0]["listing"] and all("number" in x and "uid" in x for x in s[0]["listing"]), s[0])


@SUITE.test
def events_of_a_newer_schema_are_reported_and_skipped_not_guessed_at():
    ev = events_of().splitlines()
    newer = [l.replace(b'"schema_version":1', b'"schema_version":2') if b'"event_type":"auth"' in l else l
             for l in ev]
    p = run("report", "-T", "text", stdin=b"\n".join(newer) + b"\n", ok=False)
    err = p.stderr.decode()
    expect(p.returncode == 2, (p.returncode, err))
    expect("schema_version 2" in err and "skipped" in err and "newer" in err, err)
    expect(b"no logins seen" in p.stdout, p.stdout)  # the auth events were not read


@SUITE.test
def unknown_fields_and_lines_of_other_tools_are_tolerated():
    ev = events_of("mailbox/dele.pcap")
    direct = run("report", "-q", "--mailbox-report", "-", stdin=ev).stdout
    padded = []
    for line in ev.splitlines():
        e = json.loads(line)
        e["added_later"] = {"x": [1, 2]}
        e[e["event_type"]]["new_field"] = "?"
        padded.append(json.dumps(e).encode())
    again = run("report", "-q", "--mailbox-report", "-", stdin=b"\n".join(padded)).stdout
    expect(again == direct, (again[:300], direct[:300]))
    # a mailbox report appended with '-' and blank lines are skipped quietly
    run("report", "-q", stdin=ev + direct + b"\n\n")


@SUITE.test
def lines_that_are_not_events_are_named_and_the_rest_read():
    ev = events_of()
    bad = b"not json\n" + ev[:50] + b"\n" + ev + b'{"no":"event_type"}\n'
    p = run("report", "-T", "text", stdin=bad, ok=False)
    err = p.stderr.decode()
    expect(p.returncode == 2 and "line 1:" in err and "line 2:" in err and "3 lines not popsift events" in err, err)
    expect(p.stdout == run("report", "-T", "text", stdin=ev).stdout, p.stdout[-300:])


@SUITE.test
def events_of_popsift_0_1_0_are_read_with_a_warning_about_listings():
    old = []
    for line in events_of("mailbox/dele.pcap").splitlines():
        e = json.loads(line)
        del e["schema_version"]
        e.get("session", {}).pop("listing", None)
        old.append(json.dumps(e, separators=(",", ":")).encode())
    p = run("report", "--mailbox-report", "-", stdin=b"\n".join(old))
    expect(b"without a listing" in p.stderr, p.stderr)
    box = [json.loads(l) for l in p.stdout.splitlines()][0]
    for s in box["sessions"]:  # what the session listed is unknown but for what it marked
        expect(s["uids_listed"] == [m["uid"] for m in s["marked_for_deletion"]], s)
    expect(any(s["marked_for_deletion"] for s in box["sessions"]), box)


@SUITE.test
def a_missing_input_fails_before_any_output():
    p = run("report", path("missing.json"), ok=False)
    expect(p.returncode == 2 and b"cannot read" in p.stderr, p.stderr)
    p = run("report", "--bogus", ok=False)
    expect(p.returncode == 1, p.stderr)


@SUITE.test
def every_row_of_the_html_report_names_its_flow_file_and_frames():
    caps = [os.path.join(ROOT, "samples", c) for c in ("mailbox/dele.pcap", "dovecot-pop3.pcap", "pop2/pop2.pcap")]
    ev = run("-q", *sum((["-r", c] for c in caps), [])).stdout
    frames = {}  # flow_id -> every frame an event of it names
    for e in map(json.loads, ev.splitlines()):
        frames.setdefault(e["flow_id"], set()).update({e["pcap_cnt"], e.get("pcap_cnt_first", e["pcap_cnt"])})
    run("report", "-q", "--html", path("rows.html"), stdin=ev)
    page = read("rows.html").decode()
    cells = re.findall(r'<td class="w">(.*?)</td>', page)
    expect(len(cells) > 40, len(cells))
    for cell in cells:
        m = re.fullmatch(r'flow <code>(\d+)</code><br><span title="([^"]+)">[^<]+</span>'
                         r'<br>frames? <code>(\d+)</code>(?:&ndash;<code>(\d+)</code>)?', cell)
        expect(m and m.group(2) in caps, cell)
        named = {int(g) for g in m.group(3, 4) if g}
        expect(named <= frames[int(m.group(1))], (cell, frames[int(m.group(1))]))
    # and the live capture's rows: a flow id alone (no file, no frame)
    live = re.sub(rb'"pcap_file":"[^"]*",|"pcap_cnt(_first)?":\d+,', b"", ev)
    run("report", "-q", "--html", path("live.html"), stdin=live)
    cells = re.findall(r'<td class="w">(.*?)</td>', read("live.html").decode())
    expect(cells and all(re.fullmatch(r"flow <code>\d+</code>", c) for c in cells), cells[:3])


HOSTILE_USER = b'<script>document.title="pwned"</script>"\'&'
HOSTILE_SUBJECT = b'</td><img src=x onerror="document.title=1"><svg onload=alert(1)>'


def hostile_capture():
    msg = (b"From: \"<b>evil</b>\" <a@b>\r\nSubject: " + HOSTILE_SUBJECT + b"\r\n\r\nbody\r\n")
    steps = [("s", b"+OK <1.2@x>\r\n"), ("c", b"USER " + HOSTILE_USER + b"\r\n"), ("s", b"+OK\r\n"),
             ("c", b"PASS <iframe src=//evil>\r\n"), ("s", b"+OK in\r\n"), ("c", b"UIDL\r\n"),
             ("s", b"+OK\r\n1 <u1>\"'\r\n.\r\n"), ("c", b"RETR 1\r\n"),
             ("s", b"+OK\r\n" + msg + b".\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    cap = Capture().session(steps)
    steps = [("s", b"+OK ready\r\n"), ("c", b"AUTH <style>*{display:none}</style>\r\n"),
             ("s", b"-ERR <a href=//x>no</a>\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    cap.session(steps, client=("10.1.0.1", 40002))
    return cap.write(path("hostile.pcap"))


class Tags(html.parser.HTMLParser):
    """Every element and attribute of a page, to prove what it contains."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "nav", "a",
             "main", "section", "div", "b", "span", "table", "tr", "th", "td", "code", "br", "small", "svg",
             "rect", "circle", "line", "path", "text", "footer"}


def hostile_page(*extra):
    cap = hostile_capture()
    ev = run("-q", "--show-passwords", "-x", path("hx"), "-r", cap).stdout
    run("report", "-q", "--show-passwords", "-x", path("hx"), "--html", path("hostile.html"), *extra, stdin=ev)
    return read("hostile.html").decode()


@SUITE.test
def wire_strings_in_the_html_report_are_text_never_markup():
    shutil.rmtree(path("hx"), ignore_errors=True)
    page = hostile_page()
    t = Tags()
    t.feed(page)
    expect(t.tags <= SAFE_TAGS, t.tags - SAFE_TAGS)
    expect(not [a for a in t.attrs if a[1].startswith("on")], [a for a in t.attrs if a[1].startswith("on")])
    hrefs = [v for tag, k, v in t.attrs if k == "href"]
    expect(all(h.startswith("#") or re.fullmatch(r"hx/[0-9A-Za-z._-]+\.eml", h) for h in hrefs), hrefs)
    text = "".join(t.text)
    for hostile in (HOSTILE_USER, HOSTILE_SUBJECT, b"<iframe src=//evil>", b"<a href=//x>no</a>"):
        expect(hostile.decode() in text, hostile)  # shown, as text
    expect("default-src 'none'" in page and "<script" not in page.lower(), "no CSP, or a script element")


@SUITE.test
def html_report_aggregates_beyond_its_limits_and_says_so():
    cap = Capture()
    for i in range(4100):  # more sessions than the timeline draws one by one, more rows than tables list
        steps = [("s", b"+OK\r\n"), ("c", b"USER u%d\r\n" % i), ("s", b"+OK\r\n"), ("c", b"PASS p\r\n"),
                 ("s", b"+OK in\r\n" if i % 2 else b"-ERR [AUTH] no\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
        cap.session(steps, client=("10.%d.%d.1" % (i // 250, i % 250), 40000))
    ev = run("-q", "-r", cap.write(path("many.pcap"))).stdout
    run("report", "-q", "--html", path("many.html"), stdin=ev)
    page = read("many.html").decode()
    expect("4100 sessions: more than 4000" in page and "(server, user) rows: the 200" in page, page[:2000])
    expect(re.search(r"\d+ more \(client, user\) rows \(\d+ events\) not listed", page), "no note on rows left out")
    expect(page.count("<tr>") < 3500, page.count("<tr>"))  # bounded, whatever the input


def main():
    rc = SUITE.main()
    shutil.rmtree(TMP, ignore_errors=True)
    if "test_tls" in sys.modules:
        shutil.rmtree(sys.modules["test_tls"].WORK, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
