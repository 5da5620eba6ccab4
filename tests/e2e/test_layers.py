#!/usr/bin/env python3
"""The source tree's shape, as docs/architecture.md draws it ("Layers" and "Mutable
state"), checked against the code: every file belongs to one module of the layer
table; every #include between modules is one the table allows, and the table only
allows edges down to a lower layer; no include cycle between files; the libraries
that must stay in one place do; and every file with mutable static storage is named,
with its owner, in the mutable-state table. Usage: test_layers.py POPSIFT (unused).
"""
import fnmatch
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import ROOT, Suite, expect  # noqa: E402

SUITE = Suite("layers")
ARCH = os.path.join(ROOT, "docs", "architecture.md")
TOPS = ("src", "dissectors", "output")
# Libraries whose headers only the named files may include.
CONFINED = {
    "nids.h": ["src/nids_abi.h"],
    "jansson.h": ["src/report*.c", "output/report*.c"],
    "gmime/gmime.h": ["output/mime.c"],
}


def sources():
    found = []
    for top in TOPS:
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith((".c", ".h", ".def")):
                    found.append(os.path.relpath(os.path.join(d, f), ROOT))
    return sorted(found)


def includes(path):
    """(project includes as paths from the root, system includes) of one file."""
    text = open(os.path.join(ROOT, path), encoding="utf-8", errors="replace").read()
    local = [os.path.normpath(os.path.join(os.path.dirname(path), m))
             for m in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M)]
    system = re.findall(r'^\s*#\s*include\s+<([^>]+)>', text, re.M)
    return local, system


def table(heading):
    """The rows of the first Markdown table after `heading` in architecture.md."""
    text = open(ARCH, encoding="utf-8").read()
    at = text.find(heading)
    expect(at >= 0, f"docs/architecture.md has no '{heading}' section")
    rows = []
    for line in text[at:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    expect(len(rows) > 1, f"no table under '{heading}'")
    return rows[1:]  # without the header row


def layer_table():
    """module -> (layer number, file globs, modules it may include)."""
    mods = {}
    for layer, module, files, may in table("## Layers"):
        globs = [g.strip(" `") for g in files.split(",") if g.strip(" `")]
        allowed = {m.strip(" `") for m in may.split(",") if m.strip(" `") not in ("", "-", "—")}
        mods[module.strip("` ")] = (int(layer), globs, allowed)
    return mods


def module_of(path, mods):
    """The module of a file: the most specific glob that matches it (an exact name wins)."""
    best = None
    for name, (_, globs, _) in mods.items():
        for g in globs:
            if fnmatch.fnmatch(path, g):
                score = (0 if any(ch in g for ch in "*?[") else 1, len(g))
                if best is None or score > best[0]:
                    best = (score, name)
    return best[1] if best else None


@SUITE.test
def every_source_file_belongs_to_one_module():
    mods = layer_table()
    lost = [f for f in sources() if module_of(f, mods) is None]
    expect(not lost, f"files in no module of docs/architecture.md's layer table: {lost}")


@SUITE.test
def includes_only_point_down_the_layers():
    mods = layer_table()
    bad = []
    for name, (layer, _, allowed) in mods.items():
        for target in allowed:
            expect(target in mods, f"'{name}' may include unknown module '{target}'")
            if mods[target][0] <= layer:
                bad.append(f"the table lets {name} (layer {layer}) include {target} (layer {mods[target][0]})")
    for f in sources():
        a = module_of(f, mods)
        for t in includes(f)[0]:
            b = module_of(t, mods)
            if b and b != a and b not in mods[a][2]:
                bad.append(f"{f} ({a}) includes {t} ({b}), an edge the layer table does not allow")
    expect(not bad, "\n".join(bad))


@SUITE.test
def the_table_lists_no_edge_the_code_does_not_have():
    mods = layer_table()
    real = set()
    for f in sources():
        for t in includes(f)[0]:
            a, b = module_of(f, mods), module_of(t, mods)
            if b and a != b:
                real.add((a, b))
    stale = [f"{a} -> {b}" for a, (_, _, allowed) in mods.items() for b in allowed if (a, b) not in real]
    expect(not stale, f"docs/architecture.md allows edges no file has (draw it as it is): {stale}")


@SUITE.test
def no_include_cycle_between_files():
    graph = {f: [t for t in includes(f)[0] if os.path.exists(os.path.join(ROOT, t))] for f in sources()}
    state, path = {}, []

    def visit(f):
        state[f] = 1
        path.append(f)
        for t in graph.get(f, []):
            if state.get(t) == 1:
                raise AssertionError("include cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t)
        path.pop()
        state[f] = 2

    for f in graph:
        if f not in state:
            visit(f)


@SUITE.test
def confined_libraries_stay_where_they_belong():
    bad = []
    for f in sources():
        for inc in includes(f)[1]:
            if inc in CONFINED and not any(fnmatch.fnmatch(f, g) for g in CONFINED[inc]):
                bad.append(f"{f} includes <{inc}>")
    expect(not bad, bad)


def mutable_statics(path):
    """Names of static storage a file can change: file-scope or function-local, not const."""
    text = open(os.path.join(ROOT, path), encoding="utf-8", errors="replace").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    names = []
    for m in re.finditer(r"^[ \t]*static\s+(?!inline\b)([^;{()=]*?)\b(\w+)\s*(\[[^\]]*\])*\s*(=|;)", text, re.M):
        decl = m.group(1)
        if re.search(r"\bconst\b", decl) and "*" not in decl.split("const")[-1]:
            continue  # read-only data
        names.append(m.group(2))
    return names


@SUITE.test
def every_mutable_static_has_a_named_owner():
    rows = table("## Mutable state")
    listed = {}
    for row in rows:
        listed[row[0].strip("` ")] = row
    missing, stale = [], []
    for f in sources():
        if f.endswith(".c") and mutable_statics(f) and f not in listed:
            missing.append(f"{f}: {mutable_statics(f)}")
    for f in listed:
        if not os.path.exists(os.path.join(ROOT, f)) or not mutable_statics(f):
            stale.append(f)
    expect(not missing, "mutable statics not in docs/architecture.md's table: " + "; ".join(missing))
    expect(not stale, f"the mutable-state table names files with none: {stale}")


if __name__ == "__main__":
    sys.exit(SUITE.main())
