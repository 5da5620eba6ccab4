#!/usr/bin/env python3
"""test_contract.py - the event contract between dissectors and output,
checked in the source rather than through the binary.

dissectors/event.h lists, beside each struct, the fields that point to memory
(EV_AUTH_POINTERS, ...). output/handoff.c copies every event across threads
through those lists and nothing else, so a pointer field missing from its list
would be read by the output thread after the dissector reused its memory: no
compiler warning, no test failure, only wrong bytes now and then. This suite
parses event.h and fails when a struct holds a pointer field (a `struct bytes`,
a `const char *`, an array given by pointer and count) that its list lacks, or
a list names a field that is not there or with the wrong kind.

The checker is run on a copy of event.h with a field added, too: it must fail
there, or it checks nothing.

    python3 tests/e2e/test_contract.py build/san/popsift
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import Suite, expect  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVENT_H = os.path.join(ROOT, "dissectors", "event.h")

# Structs of event.h that are not event data: `bytes` is the pointer type
# itself, `event` is the tagged union (each member has its own list) and
# `event_sink` holds the function that takes events.
NOT_EVENT_DATA = {"bytes", "event", "event_sink"}

# A list's kind for each C type that points to memory (event.h explains them).
KIND_OF_TYPE = {
    "const char *": "STR",
    "struct bytes": "BYTES",
    "const uint8_t *": "SPAN",
    "const struct bytes *": "BYTES_ARRAY",
    "const struct mailbox_entry *": "ENTRY_ARRAY",
}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def structs(text):
    """{name: [(type, field), ...]} for every top-level struct definition."""
    out = {}
    for m in re.finditer(r"\bstruct\s+(\w+)\s*\{(.*?)\}\s*;", text, flags=re.S):
        fields = []
        if m.group(1) in NOT_EVENT_DATA:
            out[m.group(1)] = fields
            continue
        for decl in m.group(2).split(";"):
            decl = " ".join(decl.split())
            if not decl or decl.startswith("union"):
                continue
            dm = re.match(r"(.*?)(\**)\s*(\w+)\s*(\[[^\]]*\])?$", decl)
            if not dm:
                raise AssertionError(f"struct {m.group(1)}: cannot read the field '{decl}'")
            ctype = (dm.group(1).strip() + (" " + dm.group(2) if dm.group(2) else "")).strip()
            fields.append((ctype + (" []" if dm.group(4) else ""), dm.group(3)))
        out[m.group(1)] = fields
    return out


def pointer_lists(text):
    """{LIST_NAME: [(kind, field, count), ...]} for every *_POINTERS(X) macro."""
    out = {}
    joined = text.replace("\\\n", " ")
    for m in re.finditer(r"#define\s+(\w+_POINTERS)\(X\)([^\n]*)", joined):
        out[m.group(1)] = re.findall(r"X\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*\)", m.group(2))
    return out


def points_to_memory(ctype, all_structs):
    """Whether a field of this C type refers to memory outside the struct."""
    if "*" in ctype or ctype == "struct bytes":
        return True
    m = re.match(r"struct (\w+)", ctype)
    return bool(m and m.group(1) in all_structs and m.group(1) not in NOT_EVENT_DATA
                and any(points_to_memory(t, all_structs) for t, _ in all_structs[m.group(1)]))


def contract_problems(header_text):
    """Every way event.h's structs and their pointer lists disagree (empty: none)."""
    text = strip_comments(header_text)
    all_structs = structs(text)
    lists = pointer_lists(header_text)
    problems = []
    union = re.search(r"struct event\s*\{.*?union\s*\{(.*?)\}\s*u\s*;", text, flags=re.S)
    members = set(re.findall(r"struct (\w+)\s+\w+\s*;", union.group(1))) if union else set()
    for name, fields in all_structs.items():
        if name in NOT_EVENT_DATA:
            continue
        pointers = {f: t for t, f in fields if points_to_memory(t, all_structs)}
        list_name = name.upper() + "_POINTERS"
        if list_name not in lists:
            if pointers or name in members:
                problems.append(f"struct {name} has no {list_name}(X) list"
                                + (f" (its pointer fields: {', '.join(sorted(pointers))})" if pointers else ""))
            continue
        listed = {f: (k, n) for k, f, n in lists[list_name]}
        names = [n for _, n in fields]
        for field, ctype in pointers.items():
            want = KIND_OF_TYPE.get(ctype)
            if field not in listed:
                problems.append(f"struct {name}: the pointer field '{field}' ({ctype}) is missing "
                                f"from {list_name}")
            elif want is None:
                problems.append(f"struct {name}: '{field}' is a {ctype}, which no list kind copies "
                                f"(add a kind to event.h and output/handoff.c)")
            elif listed[field][0] != want:
                problems.append(f"struct {name}: {list_name} lists '{field}' as {listed[field][0]}, "
                                f"but it is a {ctype} ({want})")
        for field, (kind, count) in listed.items():
            if field not in names:
                problems.append(f"struct {name}: {list_name} names '{field}', which it lacks")
            elif field not in pointers:
                problems.append(f"struct {name}: {list_name} names '{field}', which points nowhere")
            if count != "_" and count not in names:
                problems.append(f"struct {name}: {list_name} counts '{field}' by '{count}', "
                                "which it lacks")
    return problems


suite = Suite("contract")


def read_event_h():
    with open(EVENT_H, encoding="utf-8") as f:
        return f.read()


@suite.test
def every_pointer_field_of_every_event_is_in_its_list():
    problems = contract_problems(read_event_h())
    expect(not problems, "dissectors/event.h: " + "; ".join(problems))


@suite.test
def every_event_of_the_union_and_the_mailbox_entry_have_a_list():
    text = read_event_h()
    lists = pointer_lists(text)
    for name in ("EV_AUTH", "EV_MESSAGE_BEGIN", "EV_MESSAGE_DATA", "EV_MESSAGE_END", "EV_TLS",
                 "EV_COMMAND", "EV_ANOMALY", "EV_SESSION", "MAILBOX_ENTRY"):
        expect(name + "_POINTERS" in lists, f"{name}_POINTERS is gone from event.h")
    expect(("STR", "mechanism", "_") in lists["EV_AUTH_POINTERS"], "the parser misread EV_AUTH_POINTERS")


def with_field(text, struct, decl):
    """event.h with `decl` added as the last field of `struct`."""
    m = re.search(r"(struct " + struct + r"\s*\{.*?)(\n\};)", text, flags=re.S)
    expect(m is not None, f"struct {struct} not found in event.h")
    return text[:m.end(1)] + "\n\t" + decl + text[m.end(1):]


@suite.test
def a_new_pointer_field_missing_from_its_list_is_caught():
    text = read_event_h()
    for struct, decl, field in (("ev_auth", "struct bytes new_secret;", "new_secret"),
                                ("ev_auth", "const char *new_name;", "new_name"),
                                ("ev_tls", "const struct bytes *ciphers;\n\tsize_t n_ciphers;", "ciphers"),
                                ("mailbox_entry", "struct bytes digest;", "digest"),
                                ("ev_message_end", "const uint8_t *trailer;", "trailer")):
        problems = contract_problems(with_field(text, struct, decl))
        expect(any(f"'{field}'" in p for p in problems),
               f"adding '{decl}' to struct {struct} went unnoticed: {problems}")


@suite.test
def a_new_event_struct_without_a_list_is_caught():
    text = read_event_h().replace("struct event {", "struct ev_quota {\n\tstruct bytes root;\n};\n\nstruct event {")
    text = text.replace("struct ev_session session;", "struct ev_session session;\n\t\tstruct ev_quota quota;")
    problems = contract_problems(text)
    expect(any("ev_quota" in p and "EV_QUOTA_POINTERS" in p for p in problems),
           f"a new event without a list went unnoticed: {problems}")


@suite.test
def a_list_that_names_a_field_wrongly_is_caught():
    text = read_event_h()
    wrong_kind = text.replace("X(STR, command, _) X(BYTES, folder, _)", "X(STR, command, _) X(STR, folder, _)")
    expect(any("'folder'" in p for p in contract_problems(wrong_kind)), "a wrong kind went unnoticed")
    gone = text.replace("X(BYTES, sample, _)", "X(BYTES, sampel, _)")
    expect(any("'sampel'" in p for p in contract_problems(gone)), "a misspelt field went unnoticed")


if __name__ == "__main__":
    sys.exit(suite.main())
