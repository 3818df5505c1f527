"""Dump line-table fixtures from the running interpreter.

For code objects of a few stdlib modules (and of a synthetic source that
exercises the encodings' corner cases: long line gaps, lines going
backward, long stretches on one line), write what linetable_line() must
reproduce: the raw table as pyprof's preload copies it, and the line
CPython itself reports for every code unit offset.

Output (stdout), one line each:
    version <hex> <x.y.z>
    code <firstlineno> <table hex or -> <offset>:<line> ...
where <line> is -1 when CPython reports no line.  Offset -1 ("not
started") is always included and maps to co_firstlineno.

Runs on 3.8 and later; keep the syntax 3.8-compatible.
"""
import dis
import importlib.util
import sys
import types

MODULES = ["inspect", "typing", "argparse", "json.decoder", "dataclasses",
           "collections", "difflib", "email.message", "pydoc", "ast",
           "asyncio.base_events", "tarfile"]

SYNTH = (
    "def big_gap():\n"
    "    a = 1\n" + "\n" * 300 +
    "    b = 2\n" + "\n" * 70000 +
    "    return a + b\n"
    "def backward(x):\n"
    "    return (x +\n"
    "            x) if x else [\n"
    "        y for y in\n"
    "        range(x)]\n"
    "def one_long_line(v):\n"
    "    return [" + ", ".join("v + %d" % i for i in range(400)) + "]\n"
    "def negative_gap(a):\n"
    "    f = (lambda: 1,\n" + "\n" * 500 +
    "         a)\n"
    "    return f\n"
    "class Empty:\n"
    "    pass\n"
    "async def co(x):\n"
    "    async for i in x:\n"
    "        await i\n"
    "    try:\n"
    "        pass\n"
    "    finally:\n"
    "        x = [i for i in\n"
    "             x]\n"
    "    return x\n"
)


def codes(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            for sub in codes(c):
                yield sub


def truth(co):
    """{offset: line} for every code unit, as CPython reports it."""
    n = len(co.co_code)
    lines = {}
    if hasattr(co, "co_lines"):  # 3.10+
        for start, end, line in co.co_lines():
            for off in range(start, end, 2):
                lines[off] = -1 if line is None else line
    else:  # 3.8, 3.9
        starts = list(dis.findlinestarts(co))
        i, cur = 0, -1
        for off in range(0, n, 2):
            while i < len(starts) and starts[i][0] <= off:
                cur = starts[i][1]
                i += 1
            lines[off] = cur
    out = {-1: co.co_firstlineno}
    for off in range(0, n, 2):
        out[off] = lines.get(off, -1)
    return out


def cross_check(co, lines):
    """3.11+: positions (decoded by other code in CPython) must agree."""
    if sys.version_info < (3, 11):
        return 0
    bad = 0
    for ins in dis.get_instructions(co):
        ln = ins.positions.lineno
        want = -1 if ln is None else ln
        if lines.get(ins.offset) != want:
            bad += 1
    return bad


def table(co):
    if sys.version_info >= (3, 10):
        return co.co_linetable
    return co.co_lnotab


def main():
    out = sys.stdout
    v = sys.version_info
    out.write("version 0x%08x %d.%d.%d\n" % (sys.hexversion, v[0], v[1], v[2]))
    sources = [("<synth>", SYNTH)]
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        with open(spec.origin, encoding="utf-8") as f:
            sources.append((spec.origin, f.read()))
    bad = 0
    for filename, src in sources:
        top = compile(src, filename, "exec")
        for co in codes(top):
            lines = truth(co)
            bad += cross_check(co, lines)
            t = table(co)
            out.write("code %d %s %s\n" % (
                co.co_firstlineno, t.hex() if t else "-",
                " ".join("%d:%d" % (o, lines[o]) for o in sorted(lines))))
    if bad:
        sys.stderr.write("gen.py: %d instructions where positions and "
                         "co_lines disagree\n" % bad)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
