#!/usr/bin/env python3
"""
bench/run.py - popsift's benchmark (issue 8), run by `make bench` / `make bench-quick`.

For each scenario a synthetic capture is generated with build/popgen (once: it
is kept in build/bench/ with the command that made it, and reused while the
command and popgen are unchanged), then these programs run several times each,
interleaved, and the median is reported:

  (1) bare      build/bench/bare_pcap: a bare pcap_next_ex() loop
  (2) nids      build/bench/bare_nids: libnids reassembly alone (as src/reasm.c
                drives it), a callback that touches every payload byte
  (3) popsift   popsift -q -r CAPTURE -o /dev/null
  (4) extract   popsift -q -r CAPTURE -o /dev/null -x TMPDIR   (message-heavy only)
  (5) pcapng    (3) on the capture rewritten by editcap -F pcapng  (message-heavy only)
  (6) zstd      (3) on the capture compressed by zstd -3           (message-heavy only)
  (6b) zstd -dc | popsift -r -: the decompression on another core, for comparison
                (what a decoding thread could give; its CPU column counts zstd's too)

Each row gives the wall time, MB/s (capture file size / time), packets/s,
sessions/s, user+system CPU time and peak RSS (getrusage of the child), and
the ratios of (3) to (1) and (2), and of (5), (6), (6b) to (3), the cost of the
format over classic pcap (the target: at most 10% more). Before timing, popsift's output on every
capture is checked against popgen's manifest (every session summarised, every
message event with the manifest's size and SHA-256): a fast but wrong run is
reported as a failure.

Scenarios (--full / --quick):
  heavy   message-heavy POP3 (popgen defaults: 300 B .. 4 MB messages, log
          distribution), 16 interleaved sessions     --size 1G  / 200M
  heavy-small  full mode only: the 200M capture again, popsift only, to show
          that peak RSS does not grow with the file
  short   short sessions (greeting, USER/PASS, STAT, QUIT)  1,000,000 / 200,000
  conc    10,000 / 2,000 concurrent long sessions (every session open from
          start to end of the capture; messages 300 B .. 64 KB)
  medium  300 sessions at once, 50-200 KB messages   --size 300M / 60M (issue 20)
  mix     80% short sessions (a login, no mail), 20% with a few messages
          (300 B .. 64 KB), 2,000 at once           50,000 / 10,000 sessions (issue 20)
  slice   the first 100 MB of the heavy capture (editcap): popsift against
          `tshark -r SLICE -Y pop` (skipped with a note when tshark or editcap is
          missing); tshark runs 3 times (1 in quick mode), it takes seconds per run

Bytes per open session: (peak RSS on conc - peak RSS on short) / (difference of
their concurrency), for popsift and for bare_nids (libnids' own per-stream cost).

Results: printed as Markdown, and written to build/bench/results-MODE.{md,json}.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "build", "bench")
POPGEN = os.path.join(ROOT, "build", "popgen")
BARE_PCAP = os.path.join(CACHE, "bare_pcap")
BARE_NIDS = os.path.join(CACHE, "bare_nids")
RUSAGE = os.path.join(CACHE, "rusage")

# name -> (popgen arguments, programs to time, what it shows)
SCENARIOS = {
    "full": [
        ("heavy", ["--size", "1G", "-c", "16", "-s", "1"],
         ["bare", "nids", "popsift", "extract", "pcapng", "zstd", "zstd-pipe"]),
        ("heavy-small", ["--size", "200M", "-c", "16", "-s", "1"], ["bare", "popsift"]),
        ("short", ["--short", "-n", "1000000", "-s", "2"], ["bare", "nids", "popsift"]),
        ("conc", ["-c", "10000", "-n", "10000", "--msg-max", "64K", "-s", "3"],
         ["bare", "nids", "popsift"]),
        ("medium", ["--size", "300M", "-c", "300", "--msg-min", "50K", "--msg-max", "200K", "-s", "5"],
         ["bare", "nids", "popsift"]),
        ("mix", ["--short-pct", "80", "-n", "50000", "-c", "2000", "--msg-max", "64K", "-s", "4"],
         ["bare", "nids", "popsift"]),
        ("slice", None, ["popsift", "tshark"]),
    ],
    "quick": [
        ("heavy", ["--size", "200M", "-c", "16", "-s", "1"],
         ["bare", "nids", "popsift", "extract", "pcapng", "zstd", "zstd-pipe"]),
        ("short", ["--short", "-n", "200000", "-s", "2"], ["bare", "nids", "popsift"]),
        ("conc", ["-c", "2000", "-n", "2000", "--msg-max", "64K", "-s", "3"],
         ["bare", "nids", "popsift"]),
        ("medium", ["--size", "60M", "-c", "300", "--msg-min", "50K", "--msg-max", "200K", "-s", "5"],
         ["bare", "nids", "popsift"]),
        ("mix", ["--short-pct", "80", "-n", "10000", "-c", "2000", "--msg-max", "64K", "-s", "4"],
         ["bare", "nids", "popsift"]),
        ("slice", None, ["popsift", "tshark"]),
    ],
}
SLICE_BYTES = 100 * 10**6  # the tshark comparison: the first 100 MB of the heavy capture
TSHARK_RUNS = {"full": 3, "quick": 1}


def concurrency(args):
    """popgen's -c of a scenario (its default: 4)."""
    return int(args[args.index("-c") + 1]) if "-c" in args else 4


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def capture_name(args):
    """A file name that says how the capture was made."""
    tag = "_".join(a.lstrip("-").replace("/", "") for a in args)
    return "popgen_" + re.sub(r"[^A-Za-z0-9_.+-]", "", tag)


def ensure_capture(args):
    """Generates the capture and its manifest unless an identical one is cached.
    The stamp is compared by popgen's arguments, not by its path: worktrees share
    build/bench, and each has its own build/popgen. Files are written under
    temporary names and renamed, so a run elsewhere never reads half a capture."""
    base = os.path.join(CACHE, capture_name(args))
    pcap, manifest, stamp = base + ".pcap", base + ".tsv", base + ".cmd"
    want = " ".join(args)
    fresh = (os.path.exists(pcap) and os.path.exists(manifest) and os.path.exists(stamp)
             and os.path.getmtime(pcap) >= os.path.getmtime(POPGEN))
    if fresh:
        with open(stamp) as f:
            fresh = f.read().split(" ", 1)[-1].strip() == want
    if not fresh:
        log(f"generating {os.path.basename(pcap)} ...")
        t = time.perf_counter()
        tmp = f".tmp{os.getpid()}"
        subprocess.run([POPGEN, "-o", pcap + tmp, "--manifest", manifest + tmp] + args, check=True,
                       stdout=subprocess.DEVNULL)
        os.replace(manifest + tmp, manifest)
        os.replace(pcap + tmp, pcap)
        with open(stamp + tmp, "w") as f:
            f.write(" ".join([POPGEN] + args) + "\n")
        os.replace(stamp + tmp, stamp)
        log(f"  {os.path.getsize(pcap) / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
    return pcap, manifest


def ensure_variant(pcap, kind):
    """The capture as pcapng (editcap) or zstd -3 (of the classic file), made once."""
    out = pcap[:-len(".pcap")] + (".pcapng" if kind == "pcapng" else ".pcap.zst")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(pcap):
        return out
    log(f"writing {os.path.basename(out)} ...")
    tmp = out + f".tmp{os.getpid()}"
    if kind == "pcapng":
        subprocess.run(["editcap", "-F", "pcapng", pcap, tmp], check=True)
    else:
        subprocess.run(["zstd", "-q", "-3", "-f", "-o", tmp, pcap], check=True)
    os.replace(tmp, out)
    return out


def ensure_slice(pcap, packets):
    """The first SLICE_BYTES of pcap (whole packets, editcap -r), made once; None without editcap."""
    if not shutil.which("editcap"):
        return None
    out = pcap[:-len(".pcap")] + "_slice100M.pcap"
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(pcap):
        return out
    n = max(1, int(packets * SLICE_BYTES / os.path.getsize(pcap)))
    log(f"writing {os.path.basename(out)} ({n} packets) ...")
    tmp = out + f".tmp{os.getpid()}"
    subprocess.run(["editcap", "-F", "pcap", "-r", pcap, tmp, f"1-{n}"], check=True)
    os.replace(tmp, out)
    return out


def slice_input(mode):
    """The 100 MB slice of this mode's heavy capture, or None when tshark or editcap is missing."""
    if not shutil.which("tshark"):
        return None
    pcap, _ = ensure_capture(SCENARIOS[mode][0][1])
    out = subprocess.run([BARE_PCAP, pcap], capture_output=True, text=True, check=True).stdout
    return ensure_slice(pcap, int(out.split()[1]))


def read_manifest(path):
    """Sessions and message records from popgen's TSV manifest."""
    sessions, messages = 0, []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            sessions += 1
            client = cols[1]
            recs = cols[11:]
            for i in range(0, len(recs) - 4, 5):
                cmd, num, size, sha, wire = recs[i:i + 5]
                messages.append((client, cmd, int(num), int(size), sha, wire))
    return sessions, messages


def warm(path):
    """Reads path once, so that the timed run finds it in the page cache: some
    kernels (DAMON reclaim on this project's VMs) evict cold pages within
    seconds, and a few MB read from disk would be charged to the program timed."""
    buf = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


def run_timed(cmd):
    """Runs cmd under bench/rusage.c; returns (wall s, user+sys s, peak RSS KB). A cmd
    that is a string runs through the shell (a pipeline)."""
    if isinstance(cmd, str):
        cmd = ["sh", "-c", "set -e; " + cmd]
    p = subprocess.run([RUSAGE] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    m = re.search(r"rusage: wall (\S+) user (\S+) sys (\S+) maxrss (\d+) status (\d+)", err)
    if not m or p.returncode != 0:
        said = [l for l in err.splitlines() if l.strip() and not l.startswith("rusage: ")]
        raise RuntimeError(f"exit {p.returncode}: {said[-1][-200:] if said else '?'}")
    return float(m[1]), float(m[2]) + float(m[3]), int(m[4])


def check_output(popsift, pcap, manifest, extract=False):
    """popsift's events (and with extract, its -x files) against the manifest. Returns (ok, text)."""
    sessions, messages = read_manifest(manifest)
    want = {}
    for m in messages:
        if m[5] != "ok":
            continue
        key = (m[0], m[1], m[2], m[3], m[4])
        want[key] = want.get(key, 0) + 1
    got, n_sessions, n_msgs, incomplete = {}, 0, 0, 0
    xdir = tempfile.mkdtemp(prefix="check.", dir=CACHE) if extract else None
    files_ok = files_bad = 0
    p = subprocess.Popen([popsift, "-q", "-r", pcap] + (["-x", xdir] if xdir else []),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in p.stdout:
        if b'"event_type":"session"' in line:
            n_sessions += 1
        elif b'"event_type":"message"' in line:
            ev = json.loads(line)
            m = ev["message"]
            n_msgs += 1
            if not m.get("complete"):
                incomplete += 1
            key = (f'{ev["src_ip"]}:{ev["src_port"]}', m["command"], m["number"], m["size"],
                   m["sha256"])
            got[key] = got.get(key, 0) + 1
            if xdir:
                try:
                    with open(os.path.join(xdir, m["path"]), "rb") as f:
                        h = hashlib.sha256()
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            h.update(chunk)
                    good = h.hexdigest() == m["sha256"]
                except (KeyError, OSError):
                    good = False
                files_ok += good
                files_bad += not good
    err = p.stderr.read().decode(errors="replace")
    if xdir:
        shutil.rmtree(xdir, ignore_errors=True)
    if p.wait() != 0:
        return False, f"popsift exited {p.returncode}: {err[-300:]}"
    missing = sum((want[k] - got.get(k, 0)) for k in want if want[k] > got.get(k, 0))
    extra = sum((got[k] - want.get(k, 0)) for k in got if got[k] > want.get(k, 0))
    ok = (n_sessions == sessions and missing == 0 and extra == 0 and incomplete == 0
          and files_bad == 0)
    text = (f"{n_sessions}/{sessions} sessions, {n_msgs}/{len(messages)} messages, "
            f"{missing} missing, {extra} unexpected, {incomplete} incomplete")
    if xdir:
        text += f"; -x: {files_ok} files match their event's SHA-256, {files_bad} do not"
    return ok, text


def same_events(popsift, classic, variant):
    """True when popsift writes the same events for both files, pcap_file aside."""
    def digest(path):
        p = subprocess.Popen([popsift, "-q", "-r", path], stdout=subprocess.PIPE)
        h = hashlib.sha256()
        for line in p.stdout:
            h.update(re.sub(rb'"pcap_file":"[^"]*",', b"", line))
        return h.hexdigest() if p.wait() == 0 else None
    a = digest(classic)
    return a is not None and a == digest(variant)


def write_baseline(sizes, where):
    """Time to write files of these sizes into `where` (page cache, then fsync'ed)."""
    buf = os.urandom(1 << 22)
    d = tempfile.mkdtemp(prefix="writebw.", dir=where)
    try:
        t0 = time.perf_counter()
        for i, n in enumerate(sizes):
            with open(os.path.join(d, f"{i}.eml"), "wb") as f:
                left = n
                while left > 0:
                    k = min(left, len(buf))
                    f.write(buf[:k])
                    left -= k
        cached = time.perf_counter() - t0
        os.sync()
        synced = time.perf_counter() - t0
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return cached, synced


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    model = sh("lscpu | sed -n 's/^Model name: *//p'")
    flags = sh("grep -o -w -m1 -E 'sha_ni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\\n' ' '")
    mem = sh("free -g | awk '/^Mem:/{print $2\" GiB\"}'")
    vers = sh("dpkg-query -W -f='${Package} ${Version}\\n' libnids1.21 libpcap0.8 libssl3 libjansson4 2>/dev/null | tr '\\n' ';'")
    return {"cpu": model, "nproc": os.cpu_count(), "flags": flags.strip(), "memory": mem,
            "kernel": platform.release(), "packages": vers, "python": platform.python_version(),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_const", dest="mode", const="full")
    g.add_argument("--quick", action="store_const", dest="mode", const="quick")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each program (median)")
    ap.add_argument("--only", help="comma-separated scenarios (heavy,heavy-small,short,conc)")
    ap.add_argument("--popsift", default=os.path.join(ROOT, "build", "popsift"),
                    help="popsift binary to time (e.g. a patched build)")
    ap.add_argument("--compare", metavar="BIN",
                    help="also time this popsift binary (row 3b), interleaved with (3): A/B of a patch")
    ap.add_argument("--no-check", action="store_true", help="skip the output check")
    ap.add_argument("--tag", default="", help="suffix for the results files")
    ap.set_defaults(mode="quick")
    a = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    for b in (POPGEN, BARE_PCAP, BARE_NIDS, RUSAGE, a.popsift):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {b} missing: run `make bench` (or `make tools bench-bins all`)")

    only = set(a.only.split(",")) if a.only else None
    results, checks, notes, failed = [], [], [], False
    mach = machine()
    started = time.perf_counter()
    for name, gen, progs in SCENARIOS[a.mode]:
        if only and name not in only:
            continue
        if gen is None:
            pcap, manifest = slice_input(a.mode), None
            if pcap is None:
                notes.append("slice: not measured: tshark or editcap is missing")
                log(notes[-1])
                continue
        else:
            pcap, manifest = ensure_capture(gen)
        size = os.path.getsize(pcap)
        n_sessions, messages = read_manifest(manifest) if manifest else (0, [])
        msg_bytes = sum(m[3] for m in messages)
        log(f"== {name}: {os.path.basename(pcap)}, {size / 1e6:.0f} MB, {n_sessions} sessions, "
            f"{len(messages)} messages ({msg_bytes / 1e6:.0f} MB)")
        for binary in ([] if a.no_check or not manifest else
                       [a.popsift] + ([a.compare] if a.compare else [])):
            ok, text = check_output(binary, pcap, manifest, extract="extract" in progs)
            who = "" if binary == a.popsift else " (3b)"
            checks.append({"scenario": name + who, "ok": ok, "text": text})
            log(f"  output check{who}: {'OK' if ok else 'FAILED'}: {text}")
            failed |= not ok
        out = subprocess.run([BARE_PCAP, pcap], capture_output=True, text=True, check=True).stdout
        packets = int(out.split()[1])  # also warms the page cache
        extract_dir = None
        cmds = {
            "bare": [BARE_PCAP, pcap],
            "nids": [BARE_NIDS, pcap],
            "popsift": [a.popsift, "-q", "-r", pcap, "-o", "/dev/null"],
            "tshark": ["tshark", "-r", pcap, "-Y", "pop"],
        }
        if a.compare:
            progs = progs[:progs.index("popsift") + 1] + ["compare"] + progs[progs.index("popsift") + 1:]
            cmds["compare"] = [a.compare, "-q", "-r", pcap, "-o", "/dev/null"]
        if "extract" in progs:
            extract_dir = tempfile.mkdtemp(prefix="extract.", dir=CACHE)
            cmds["extract"] = [a.popsift, "-q", "-r", pcap, "-o", "/dev/null", "-x", extract_dir]
        inputs = {p: pcap for p in progs}
        for kind in ("pcapng", "zstd"):
            if kind in progs:
                inputs[kind] = ensure_variant(pcap, kind)
                cmds[kind] = [a.popsift, "-q", "-r", inputs[kind], "-o", "/dev/null"]
        if "zstd-pipe" in progs:
            inputs["zstd-pipe"] = inputs["zstd"]
            cmds["zstd-pipe"] = (f"zstd -q -dc '{inputs['zstd']}' | '{a.popsift}' -q -r - "
                                 f"-o /dev/null")
        for kind in ("pcapng", "zstd"):
            if kind in progs and not a.no_check:
                same = same_events(a.popsift, pcap, inputs[kind])
                checks.append({"scenario": f"{name} ({kind})", "ok": same,
                               "text": "events identical to the classic pcap's" if same
                               else "events differ from the classic pcap's"})
                log(f"  output check ({kind}): {'OK' if same else 'FAILED'}")
                failed |= not same
        samples = {p: [] for p in progs}
        unavailable = {}
        for r in range(a.runs):
            for prog in progs:
                if prog in unavailable or (prog == "tshark" and r >= TSHARK_RUNS[a.mode]):
                    continue
                if prog == "extract":
                    shutil.rmtree(extract_dir, ignore_errors=True)
                    os.makedirs(extract_dir)
                warm(inputs.get(prog, pcap))
                try:
                    samples[prog].append(run_timed(cmds[prog]))
                except RuntimeError as e:
                    unavailable[prog] = str(e)
                    log(f"  {prog}: not timed: {unavailable[prog]}")
                    continue
                if prog == "extract" and r == 0:
                    files = sum(len(fs) for _, _, fs in os.walk(extract_dir))
                    log(f"  extract: {files} files written")
        if extract_dir:
            shutil.rmtree(extract_dir, ignore_errors=True)
        rows = {}
        for prog in progs:
            if not samples[prog]:
                rows[prog] = {"program": prog, "unavailable": unavailable.get(prog, "?")}
                continue
            wall = statistics.median(s[0] for s in samples[prog])
            cpu = statistics.median(s[1] for s in samples[prog])
            rss = statistics.median(s[2] for s in samples[prog]) / 1024.0
            rows[prog] = {"program": prog, "seconds": wall, "cpu_seconds": cpu,
                          "mb_s": size / 1e6 / wall, "packets_s": packets / wall,
                          "sessions_s": n_sessions / wall, "rss_mb": rss,
                          "runs": [round(s[0], 4) for s in samples[prog]]}
            log(f"  {prog:8s} {wall:8.3f} s  {size / 1e6 / wall:8.0f} MB/s  {rss:7.1f} MB RSS")
        res = {"scenario": name, "concurrency": concurrency(gen) if gen else None,
               "capture": os.path.basename(pcap), "bytes": size,
               "packets": packets, "sessions": n_sessions, "messages": len(messages),
               "message_bytes": msg_bytes, "rows": rows}
        if "extract" in progs:
            cached, synced = write_baseline([m[3] for m in messages], CACHE)
            res["write_baseline"] = {"page_cache_s": cached, "fsync_s": synced}
            log(f"  writing the {msg_bytes / 1e6:.0f} MB of messages: {cached:.2f} s to the page cache, "
                f"{synced:.2f} s to disk")
        results.append(res)

    elapsed = time.perf_counter() - started
    extra = derived(results)
    md = render(a.mode, mach, results, checks, a.runs, elapsed, extra, notes)
    print(md)
    tag = f"-{a.tag}" if a.tag else ""
    with open(os.path.join(CACHE, f"results-{a.mode}{tag}.md"), "w") as f:
        f.write(md)
    with open(os.path.join(CACHE, f"results-{a.mode}{tag}.json"), "w") as f:
        json.dump({"mode": a.mode, "machine": mach, "results": results, "checks": checks,
                   "runs": a.runs, "elapsed_s": elapsed, "derived": extra, "notes": notes},
                  f, indent=1)
    if failed:
        sys.exit("bench: popsift's output did not match the manifest (see 'output check')")


LABELS = {"bare": "(1) bare pcap_next_ex", "nids": "(2) libnids + touch",
          "popsift": "(3) popsift -o /dev/null", "compare": "(3b) --compare binary",
          "extract": "(4) popsift -x DIR", "pcapng": "(5) popsift on the pcapng",
          "zstd": "(6) popsift on the .zst", "zstd-pipe": "(6b) zstd -dc \\| popsift -r -",
          "tshark": "(7) tshark -r SLICE -Y pop"}
FORMATS = ("pcapng", "zstd", "zstd-pipe")  # compared with (3): the cost of the format


def derived(results):
    """Bytes per open session (popsift and libnids alone: peak RSS on conc minus on short,
    over the difference of their concurrency) and tshark against popsift on the slice."""
    by = {r["scenario"]: r for r in results}
    out = {}
    conc, short = by.get("conc"), by.get("short")
    if conc and short:
        per = {}
        for prog in ("nids", "popsift", "compare"):
            a, b = conc["rows"].get(prog, {}), short["rows"].get(prog, {})
            if "rss_mb" in a and "rss_mb" in b:
                per[prog] = (a["rss_mb"] - b["rss_mb"]) * 1024 * 1024 / (
                    conc["concurrency"] - short["concurrency"])
        out["bytes_per_open_session"] = per
    sl = by.get("slice")
    if sl and "seconds" in sl["rows"].get("tshark", {}) and "seconds" in sl["rows"].get("popsift", {}):
        t, p = sl["rows"]["tshark"], sl["rows"]["popsift"]
        out["tshark_over_popsift"] = {"wall": t["seconds"] / p["seconds"],
                                      "cpu": t["cpu_seconds"] / p["cpu_seconds"]}
    return out


def render(mode, mach, results, checks, runs, elapsed, extra=None, notes=()):
    L = [f"## popsift benchmark ({mode}), {mach['date']}", "",
         f"Machine: {mach['cpu']}, {mach['nproc']} cores ({mach['flags']}), {mach['memory']} RAM, "
         f"Linux {mach['kernel']}; {mach['packages']}", "",
         f"Median of {runs} runs, capture in the page cache; RSS = peak resident set (getrusage). "
         f"\"x bare (best)\": the fastest run of each program against the fastest bare read, "
         f"the figure least disturbed by a shared host.", ""]
    L += ["| scenario | program | seconds | MB/s | packets/s | sessions/s | CPU s | peak RSS MB | x bare | x bare (best) | x nids | x nids CPU | x (3) | x (3) best |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for res in results:
        rows = res["rows"]
        bare = rows.get("bare", {}).get("seconds")
        bare_best = min(rows.get("bare", {}).get("runs") or [0])
        nids = rows.get("nids", {}).get("seconds")
        nids_cpu = rows.get("nids", {}).get("cpu_seconds")
        mine = rows.get("popsift", {})
        for prog, r in rows.items():
            if "unavailable" in r:
                L.append(f"| {res['scenario']} | {LABELS[prog]} | n/a | | | | | | | | | | | |")
                continue
            x3 = x3b = ""
            if prog in FORMATS and "seconds" in mine:
                x3 = f"{r['seconds'] / mine['seconds']:.2f}"
                x3b = f"{min(r['runs']) / min(mine['runs']):.2f}"
            xb = f"{r['seconds'] / bare:.2f}" if bare else ""
            xbb = f"{min(r['runs']) / bare_best:.2f}" if bare_best else ""
            xn = f"{r['seconds'] / nids:.2f}" if nids and prog != "bare" else ""
            xnc = f"{r['cpu_seconds'] / nids_cpu:.2f}" if nids_cpu and prog != "bare" else ""
            L.append(f"| {res['scenario']} | {LABELS[prog]} | {r['seconds']:.3f} | {r['mb_s']:.0f} | "
                     f"{r['packets_s'] / 1e6:.2f} M | {r['sessions_s']:,.0f} | {r['cpu_seconds']:.2f} | "
                     f"{r['rss_mb']:.1f} | {xb} | {xbb} | {xn} | {xnc} | {x3} | {x3b} |")
    L.append("")
    L.append("Captures:")
    for res in results:
        L.append(f"- {res['scenario']}: `{res['capture']}`: {res['bytes'] / 1e6:.0f} MB, "
                 f"{res['packets']:,} packets, {res['sessions']:,} sessions, {res['messages']:,} messages "
                 f"({res['message_bytes'] / 1e6:.0f} MB of message bodies)")
        wb = res.get("write_baseline")
        if wb:
            ex = res["rows"].get("extract", {})
            ps = res["rows"].get("popsift", {})
            line = (f"  - writing those bodies as files: {wb['page_cache_s']:.2f} s into the page cache, "
                    f"{wb['fsync_s']:.2f} s to disk")
            if "seconds" in ex and "seconds" in ps:
                line += f"; extraction added {ex['seconds'] - ps['seconds']:.2f} s to (3)"
            else:
                line += f"; (4) not measured: {ex.get('unavailable', '?')}"
            L.append(line)
    extra = extra or {}
    per = extra.get("bytes_per_open_session")
    if per:
        L.append("")
        L.append("Bytes per open session (peak RSS on conc minus on short, over the difference of "
                 "their concurrency): " + ", ".join(f"{LABELS[p]} {v:,.0f}" for p, v in per.items())
                 + (f"; popsift / libnids {per['popsift'] / per['nids']:.2f}"
                    if per.get("nids", 0) > 0 and "popsift" in per else ""))
    ts = extra.get("tshark_over_popsift")
    if ts:
        L.append("")
        L.append(f"tshark on the 100 MB slice takes {ts['wall']:.1f} x popsift's wall time, "
                 f"{ts['cpu']:.1f} x its CPU time.")
    for n in notes:
        L.append("")
        L.append(f"Note: {n}")
    if checks:
        L.append("")
        L.append("Output checked against popgen's manifest:")
        for c in checks:
            L.append(f"- {c['scenario']}: {'OK' if c['ok'] else 'FAILED'}: {c['text']}")
    L.append("")
    L.append(f"Targets: (3)/(1) <= 2.5 on heavy, <= 2.0 on short; RSS of (3) < 64 MB and the same on "
             f"heavy and heavy-small; (5) and (6) at most 1.10 x (3). Bench ran {elapsed:.0f} s.")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
