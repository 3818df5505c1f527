#!/usr/bin/env python3
"""formats.py - checks shared by the format tests (01NN-format-*.sh).

  formats.py text-vs-json REPORT.txt TREE.json
      the text report's per-thread totals agree with the JSON tree's
  formats.py totals FORMAT FILE TREE.json
      FILE (html, speedscope, trace, svg) has the JSON tree's totals
  formats.py pprof-top TOP.txt TREE.json
      `go tool pprof -top -unit=ns` output: the total and the top
      functions' self time equal what the tree says
  formats.py trace FILE
      Chrome trace event format: required fields, B/E nesting per thread,
      timestamps monotonic per thread
  formats.py gecko FILE TREE.json [cpu|wall]
      the Firefox Profiler's processed format: every table's columns as
      long as its length, every index in range, callers before callees,
      times monotonic per thread; its threads are the tree's (names,
      order), each weighing what its tree root does (a family's threads
      together what the family's root does), with as many samples
      where one entry is one sample (cpu: CPU mode); wall: the [idle]
      entries are the tree's [idle] time, in the Idle category
  formats.py gecko-markers FILE WANT.json
      its markers are those of WANT ([tid, name, phase] each), "inner"
      nested in "outer"
  formats.py gecko-absent FILE NAME
      no function NAME in any thread's tables or samples

Prints one line per check; exits 1 if any failed.  The JSON tree
(`pyprof report --format json`) is the reference because it carries exact
nanoseconds; it is itself checked against the text report.
"""
import collections
import json
import re
import sys

failed = False


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failed = True


def tree_totals(path):
    with open(path) as f:
        t = json.load(f)
    return t, t["total_ns"], t["total_samples"]


def self_by_function(tree):
    """self ns per function label over the whole tree"""
    out = collections.Counter()
    stack = list(tree["roots"])
    while stack:
        n = stack.pop()
        if n["kind"] != "thread":
            out[n["name"]] += n["self_ns"]
        stack.extend(n["children"])
    return out


def text_vs_json(report, tree_path):
    tree, ns, samples = tree_totals(tree_path)
    heads = re.findall(r"^\S.*?: (\d+) samples?, ([0-9.]+) s (?:CPU|wall)", open(report).read(), re.M)
    s = sum(int(h[0]) for h in heads)
    secs = sum(float(h[1]) for h in heads)
    check(s == samples, "text report samples %d = json %d" % (s, samples))
    check(abs(secs - ns / 1e9) <= 0.0005 * max(1, len(heads)) + 1e-9,
          "text report %.3f s = json %.6f s" % (secs, ns / 1e9))


def totals(fmt, path, tree_path):
    tree, ns, samples = tree_totals(tree_path)
    if fmt == "speedscope":
        d = json.load(open(path))
        w = sum(sum(p["weights"]) for p in d["profiles"])
        check(abs(w - ns / 1e9) < 1e-6, "speedscope weights %.9f s = %.9f s" % (w, ns / 1e9))
    elif fmt == "trace":
        d = json.load(open(path))
        th = [e for e in d["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"]
        tns = sum(e["args"]["total_ns"] for e in th)
        ts = sum(e["args"]["samples"] for e in th)
        check(tns == ns and ts == samples,
              "trace threads %d ns, %d samples = %d ns, %d samples" % (tns, ts, ns, samples))
    elif fmt == "svg":
        m = re.search(r"<title>all \(([0-9.]+) s, (\d+) samples", open(path).read())
        check(m is not None and int(m.group(2)) == samples and
              abs(float(m.group(1)) - ns / 1e9) < 0.0005,
              "svg root %s = %d samples" % (m.groups() if m else None, samples))
    elif fmt == "html":
        text = open(path).read()
        a = text.index('<script id="pyprof-data" type="application/json">')
        a = text.index(">", a) + 1
        d = json.loads(text[a:text.index("</script>", a)])
        check(d["tree"]["total"][0] == ns and d["tree"]["samples"][0] == samples,
              "html tree %d ns, %d samples = %d ns, %d samples"
              % (d["tree"]["total"][0], d["tree"]["samples"][0], ns, samples))
    else:
        check(False, "unknown format " + fmt)


def pprof_top(top_path, tree_path):
    tree, ns, samples = tree_totals(tree_path)
    text = open(top_path).read()
    m = re.search(r"of (\d+)ns total", text)
    check(m is not None and int(m.group(1)) == ns,
          "pprof total %s ns = %d ns" % (m.group(1) if m else None, ns))
    rows = re.findall(r"^\s*(\d+)ns\s+\S+\s+\S+\s+\d+ns\s+\S+\s+(.+)$", text, re.M)
    want = self_by_function(tree)
    # a function with no self time is not a row pprof must print
    top = sorted(((k, v) for k, v in want.items() if v > 0), key=lambda kv: -kv[1])[:5]
    got = {name.replace("\u2039", "<").replace("\u203a", ">").strip(): int(v) for v, name in rows}
    for name, v in top:
        check(got.get(name) == v, "pprof flat %s: %s ns = %d ns" % (name, got.get(name), v))
    if rows:
        first = rows[0][1].replace("\u2039", "<").replace("\u203a", ">").strip()
        check(first == top[0][0], "pprof's top function %s is the tree's %s" % (first, top[0][0]))


def trace(path):
    d = json.load(open(path))
    check(isinstance(d.get("traceEvents"), list), "traceEvents is a list")
    open_by = collections.defaultdict(list)
    last = {}
    bad_fields = bad_time = bad_nest = 0
    for e in d["traceEvents"]:
        if not all(k in e for k in ("ph", "pid", "tid")) or not isinstance(e["pid"], int):
            bad_fields += 1
            continue
        if e["ph"] == "M":
            if "name" not in e or "args" not in e:
                bad_fields += 1
            continue
        if e["ph"] not in ("B", "E") or not isinstance(e.get("ts"), (int, float)):
            bad_fields += 1
            continue
        key = (e["pid"], e["tid"])
        if key in last and e["ts"] < last[key]:
            bad_time += 1
        last[key] = e["ts"]
        if e["ph"] == "B":
            if not isinstance(e.get("name"), str) or not e["name"]:
                bad_fields += 1
            open_by[key].append(e)
        elif not open_by[key]:
            bad_nest += 1
        else:
            open_by[key].pop()
    unclosed = sum(len(v) for v in open_by.values())
    check(bad_fields == 0, "every event has ph, pid, tid, ts (and B a name): %d bad" % bad_fields)
    check(bad_time == 0, "timestamps never go back within a thread: %d bad" % bad_time)
    check(bad_nest == 0 and unclosed == 0,
          "B/E nest per thread: %d unmatched E, %d unclosed B" % (bad_nest, unclosed))
    check(len(last) >= 1, "%d thread tracks" % len(last))


def gecko_tables(d):
    """per thread: problems with its tables' shapes and indexes"""
    strings = len(d["shared"]["stringArray"])
    categories = len(d["meta"]["categories"])
    bad = []
    for ti, th in enumerate(d["threads"]):
        where = "thread %d (%s)" % (ti, th.get("name"))
        for name in ("samples", "markers", "stackTable", "frameTable", "funcTable",
                     "resourceTable", "nativeSymbols"):
            t = th[name]
            for col, v in t.items():
                if isinstance(v, list) and len(v) != t["length"]:
                    bad.append("%s: %s.%s has %d rows, length %d"
                               % (where, name, col, len(v), t["length"]))
        st, fr, fu, rs = th["stackTable"], th["frameTable"], th["funcTable"], th["resourceTable"]

        def out_of(col, values, n, nullable=False, minus_one=False):
            for i, v in enumerate(values):
                if v is None and nullable or v == -1 and minus_one:
                    continue
                if not isinstance(v, int) or not 0 <= v < n:
                    bad.append("%s: %s[%d] = %r, not below %d" % (where, col, i, v, n))
                    return
        out_of("samples.stack", th["samples"]["stack"], st["length"])
        out_of("stackTable.frame", st["frame"], fr["length"])
        for i, pre in enumerate(st["prefix"]):
            if pre is not None and not (isinstance(pre, int) and 0 <= pre < i):
                bad.append("%s: stack %d's prefix %r is not an earlier row" % (where, i, pre))
                break
        out_of("frameTable.func", fr["func"], fu["length"])
        out_of("frameTable.category", fr["category"], categories)
        out_of("funcTable.name", fu["name"], strings)
        out_of("funcTable.fileName", fu["fileName"], strings, nullable=True)
        out_of("funcTable.resource", fu["resource"], rs["length"], minus_one=True)
        out_of("resourceTable.name", rs["name"], strings)
        out_of("markers.name", th["markers"]["name"], strings)
        out_of("markers.category", th["markers"]["category"], categories)
        times = th["samples"]["time"]
        if any(b < a for a, b in zip(times, times[1:])):
            bad.append("%s: sample times go back" % where)
        m = th["markers"]
        for i in range(m["length"]):
            if m["phase"][i] == 1 and not m["startTime"][i] <= m["endTime"][i]:
                bad.append("%s: marker %d ends before it starts" % (where, i))
    return bad


def gecko_stack_names(d, th, stack):
    """the function names of a stack, root first"""
    s = d["shared"]["stringArray"]
    st, fr, fu = th["stackTable"], th["frameTable"], th["funcTable"]
    names = []
    while stack is not None:
        names.append(s[fu["name"][fr["func"][st["frame"][stack]]]])
        stack = st["prefix"][stack]
    return names[::-1]


def gecko(path, tree_path, mode=None):
    d = json.load(open(path))
    tree = json.load(open(tree_path))
    bad = gecko_tables(d)
    check(not bad, "tables: columns as long as their length, indexes in range, "
          "callers first, times in order" + "".join("\n    " + b for b in bad[:10]))
    check(d["meta"]["preprocessedProfileVersion"] == 57 and d["meta"]["product"] == "pyprof",
          "processed profile version %s, product %s"
          % (d["meta"]["preprocessedProfileVersion"], d["meta"]["product"]))
    names = [t["name"] for t in d["threads"]]
    want = [t["name"] for t in tree["threads"]]
    check(names == want, "threads %s = the tree's %s" % (names, want))
    tids = [t["tid"] for t in d["threads"]]
    check(tids == [t["tid"] for t in tree["threads"]], "tids %s are the tree's" % tids)
    # a root of one thread weighs what its gecko thread does, a root of a
    # family of threads ("threads") what they do together
    held = set()
    for r in tree["roots"]:
        members = r["threads"] if "threads" in r else [r["thread"]]
        held.update(members)
        name = "+".join(d["threads"][ti]["name"] for ti in members)
        ms = sum(sum(d["threads"][ti]["samples"]["weight"]) for ti in members)
        n = sum(d["threads"][ti]["samples"]["length"] for ti in members)
        # each weight is exact to the nanosecond; the sum of floats is not
        check(abs(ms - r["total_ns"] / 1e6) < 1e-6 * max(1, n),
              "%s: weights %.6f ms = tree %.6f ms" % (name, ms, r["total_ns"] / 1e6))
        if mode == "cpu":
            check(n == r["total_samples"], "%s: %d samples = tree %d" % (name, n, r["total_samples"]))
        else:
            check(n >= r["total_samples"], "%s: %d entries for the tree's %d samples"
                  % (name, n, r["total_samples"]))
    empty = [th["name"] for ti, th in enumerate(d["threads"])
             if ti not in held and th["samples"]["length"]]
    check(not empty, "threads of no root have no samples: %s" % empty)
    total = sum(t["samples"]["length"] for t in d["threads"])
    if mode == "cpu":
        check(total == tree["total_samples"], "%d samples in all = tree %d" % (total, tree["total_samples"]))
    if mode == "wall":
        cats = [c["name"] for c in d["meta"]["categories"]]
        idle_ms, wrong = 0.0, 0
        for th in d["threads"]:
            st, fr = th["stackTable"], th["frameTable"]
            for stack, w in zip(th["samples"]["stack"], th["samples"]["weight"]):
                if gecko_stack_names(d, th, stack)[-1].startswith("[idle"):
                    idle_ms += w
                    wrong += cats[fr["category"][st["frame"][stack]]] != "Idle"
        want = 0
        nodes = list(tree["roots"])
        while nodes:
            n = nodes.pop()
            want += n["total_ns"] if n["kind"] == "idle" else 0
            nodes.extend(n["children"])
        check(idle_ms > 0 and abs(idle_ms - want / 1e6) < 1e-3 and not wrong,
              "[idle] entries weigh %.6f ms = the tree's [idle] %.6f ms, %d not Idle"
              % (idle_ms, want / 1e6, wrong))


def gecko_markers(path, want_path):
    """markers against a JSON list of [thread tid, name, phase] expected"""
    d = json.load(open(path))
    s = d["shared"]["stringArray"]
    got = []
    for th in d["threads"]:
        m = th["markers"]
        for i in range(m["length"]):
            got.append([th["tid"], s[m["name"][i]], m["phase"][i], m["startTime"][i], m["endTime"][i]])
    want = json.load(open(want_path))
    for tid, name, phase in want:
        match = [g for g in got if g[0] == tid and g[1] == name and g[2] == phase]
        check(len(match) == 1, "marker %s (phase %d) on thread %d: %s" % (name, phase, tid, match or got))
    check(len(got) == len(want), "%d markers, %d expected" % (len(got), len(want)))
    spans = {g[1]: g for g in got if g[2] == 1}
    if "outer" in spans and "inner" in spans:
        o, i = spans["outer"], spans["inner"]
        check(o[3] <= i[3] and i[4] <= o[4], "inner [%s, %s] nests in outer [%s, %s]"
              % (i[3], i[4], o[3], o[4]))


def gecko_absent(path, name):
    d = json.load(open(path))
    s = d["shared"]["stringArray"]
    found = [th["name"] for th in d["threads"] for f in th["funcTable"]["name"] if s[f] == name]
    stacks = sum(1 for th in d["threads"] for st in th["samples"]["stack"]
                 if name in gecko_stack_names(d, th, st))
    check(not found and not stacks, "no function %s in any thread (found in %s, %d samples)"
          % (name, found, stacks))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"text-vs-json": text_vs_json, "totals": totals, "pprof-top": pprof_top,
     "trace": trace, "gecko": gecko, "gecko-markers": gecko_markers,
     "gecko-absent": gecko_absent}[cmd](*args)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
