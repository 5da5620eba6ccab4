#!/usr/bin/env python3
"""Tests popsift as a new user meets it: every README command block that needs
no network and no root runs and succeeds; `make install` into a temporary
DESTDIR gives a working binary and man page, `make uninstall` removes them;
--help, the man page and docs/events.md agree with the code.
Usage: test_docs.py POPSIFT [NAME...]
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import ROOT, Suite, expect  # noqa: E402

SUITE = Suite("docs")
# README blocks that set up the machine or need privileges are run by make itself.
SKIP = re.compile(r"^\s*(make (demo|check)|sudo|apt-get|popsift .*-i |build/popsift .*-i |scripts/install-deps)")




def readme_blocks():
    """Each ```sh block of the README, as one script."""
    text = open(os.path.join(ROOT, "README.md")).read()
    return re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.S)


@SUITE.test
def every_readme_command_runs():
    ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        for block in readme_blocks():
            if any(SKIP.search(line) for line in block.splitlines()):
                continue
            script = "set -euo pipefail\n" + block.replace("/tmp/", tmp + "/")
            env = dict(os.environ, PATH=os.path.dirname(SUITE.popsift) + ":" + os.environ["PATH"])
            p = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, timeout=300, env=env)
            expect(p.returncode == 0, f"README block failed ({p.returncode}):\n{block}\n{p.stderr.decode()[-800:]}")
            ran += 1
    expect(ran >= 4, f"only {ran} README blocks ran")


@SUITE.test
def make_install_and_uninstall_honour_prefix_and_destdir():
    with tempfile.TemporaryDirectory() as dest:
        env = dict(os.environ, MAKEFLAGS="")
        p = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}", "PREFIX=/opt/popsift"], cwd=ROOT,
                           capture_output=True, env=env, timeout=600)
        expect(p.returncode == 0, p.stderr.decode()[-800:])
        binary = os.path.join(dest, "opt/popsift/bin/popsift")
        man = os.path.join(dest, "opt/popsift/share/man/man1/popsift.1")
        expect(os.access(binary, os.X_OK) and os.path.exists(man), os.listdir(dest))
        out = subprocess.run([binary, "-q", "-r", os.path.join(ROOT, "samples/dovecot-pop3.pcap")],
                             capture_output=True, timeout=60)
        expect(out.returncode == 0 and b'"event_type":"auth"' in out.stdout, out.stderr)
        ver = subprocess.run([binary, "--version"], capture_output=True).stdout.decode()
        expect(ver.startswith("popsift "), ver)
        p = subprocess.run(["make", "-s", "uninstall", f"DESTDIR={dest}", "PREFIX=/opt/popsift"], cwd=ROOT,
                           capture_output=True, env=env)
        expect(p.returncode == 0 and not os.path.exists(binary) and not os.path.exists(man), p.stderr)


def help_options():
    out = SUITE.run("--help").out.decode()
    return sorted(set(re.findall(r"(--[a-z][a-z-]+)", out)))


@SUITE.test
def man_page_documents_every_option_and_renders():
    man = open(os.path.join(ROOT, "docs", "popsift.1")).read().replace("\\-", "-")
    missing = [o for o in help_options() if o not in man]
    expect(not missing, f"options missing from docs/popsift.1: {missing}")
    p = subprocess.run(["man", "--warnings", "-l", "-E", "UTF-8", os.path.join(ROOT, "docs", "popsift.1")],
                       capture_output=True, env=dict(os.environ, MANWIDTH="80"))
    if p.returncode == 0:
        expect(b"EXIT" in p.stdout and not p.stderr.strip(), p.stderr.decode()[:500])


@SUITE.test
def readme_mentions_every_option():
    readme = open(os.path.join(ROOT, "README.md")).read()
    missing = [o for o in help_options() if o not in readme and o not in ("--help", "--version")]
    expect(not missing, f"options missing from README.md: {missing}")



if __name__ == "__main__":
    sys.exit(SUITE.main())
