"""A program of many functions, for what a real profile packs to
(bench/README.md): tokenizing, diffing, wrapping, formatting and
serializing the standard library's own sources, round after round, for
SECONDS of CPU.

usage: mixed.py [SECONDS]  (default 10)"""
import difflib
import io
import json
import os
import pprint
import sys
import sysconfig
import textwrap
import time
import tokenize

lib = sysconfig.get_paths()["stdlib"]
files = sorted(os.path.join(lib, f) for f in os.listdir(lib) if f.endswith(".py"))[:60]
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
end = time.process_time() + seconds
n = 0
while time.process_time() < end:
    path = files[n % len(files)]
    n += 1
    src = open(path, encoding="utf-8", errors="replace").read()
    toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    lines = src.splitlines()[:400]
    other = [l.replace("self", "this") for l in lines]
    list(difflib.unified_diff(lines, other, lineterm=""))
    textwrap.fill(" ".join(t.string for t in toks[:2000]), 60)
    pprint.pformat([(t.type, t.string) for t in toks[:500]])
    json.loads(json.dumps({"toks": [t.string for t in toks[:3000]]}))
