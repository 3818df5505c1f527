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
    top = sorted(want.items(), key=lambda kv: -kv[1])[:5]
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


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"text-vs-json": text_vs_json, "totals": totals, "pprof-top": pprof_top,
     "trace": trace}[cmd](*args)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
