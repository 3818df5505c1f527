"""pyprof's IPython extension: profile one statement or one cell.

    %load_ext pyprof
    %pyprof [options] statement
    %%pyprof [options]
    ...cell...

The cell runs with libpyprof.so recording (the library is loaded here if it
was not preloaded), between a start and a stop mark of its own; then
`pyprof report --window` renders just those samples, of every thread that
ran meanwhile.  IPython's machinery and this extension's own frames are
hidden, so the report's root is the cell's code.

Options: --show-all, --hide PATTERN, --collapse PATTERN, --show PATTERN,
--preset NAME, --format FORMAT, -o FILE, --depth N, --min-percent P,
--idle, --no-idle (wall mode: waiting shown as [idle], or left out),
--interval DURATION (default 1ms, or PYPROF_INTERVAL), --mode cpu|wall
and --native (native frames too; only when this extension loads the
library: all three are fixed when the library loads; with the library
preloaded, set PYPROF_INTERVAL, PYPROF_MODE and PYPROF_NATIVE instead).
See pyprof(1).
"""
import ctypes
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid

try:  # written by `make install`
    from ._paths import BINDIR, PKGLIBDIR
except ImportError:  # the build tree: tests set PYPROF_LIB and PYPROF_BIN
    BINDIR = PKGLIBDIR = None

_HERE = os.path.dirname(os.path.abspath(__file__))
_CELL_FILE = "<pyprof-cell>"
# options taking a value, and flags, passed on to `pyprof report`
_VALUED = {"--hide", "--collapse", "--show", "--preset", "--format", "-o",
           "--depth", "--min-percent", "--config"}
_FLAGS = {"--show-all", "--no-trim", "--ascii", "--idle", "--no-idle",
          "--native"}
_MODES = ("cpu", "wall")
_DEFAULT_INTERVAL = "1ms"  # when this extension loads the library


class PyprofError(Exception):
    pass


def _library_path():
    candidates = [os.environ.get("PYPROF_LIB")]
    if PKGLIBDIR:
        candidates.append(os.path.join(PKGLIBDIR, "libpyprof.so"))
    candidates.append(os.path.join(_HERE, "..", "..", ".libs", "libpyprof.so"))
    for c in candidates:
        if c and os.path.exists(c):
            return c
    raise PyprofError("libpyprof.so not found: set PYPROF_LIB")


def _collector_path():
    for c in (os.environ.get("PYPROF_BIN"),
              os.path.join(BINDIR, "pyprof") if BINDIR else None,
              shutil.which("pyprof")):
        if c and os.access(c, os.X_OK):
            return c
    raise PyprofError("the pyprof command was not found: set PYPROF_BIN")


class _Library:
    """libpyprof.so's control API, preloaded or loaded here."""

    def __init__(self, interval=None, mode=None, native=False):
        self.loaded_here = False
        # what the library read, or is about to read, at its start
        self.mode = os.environ.get("PYPROF_MODE") or "cpu"
        self.native = os.environ.get("PYPROF_NATIVE", "0") not in ("", "0", "no", "false", "off")
        lib = ctypes.CDLL(None)
        if not hasattr(lib, "pyprof_start"):
            saved = {k: os.environ.get(k) for k in
                     ("PYPROF_START", "PYPROF_OUTPUT", "PYPROF_INTERVAL",
                      "PYPROF_MODE", "PYPROF_NATIVE")}
            self.tmpdir = tempfile.mkdtemp(prefix="pyprof-ipython-")
            os.environ["PYPROF_START"] = "0"
            os.environ["PYPROF_OUTPUT"] = self.tmpdir + "/"
            if interval:
                os.environ["PYPROF_INTERVAL"] = interval
            elif not os.environ.get("PYPROF_INTERVAL"):
                # a cell runs for a second or less: 1 ms gives it hundreds
                # of samples, as `pyprof run` does (the library's own 10 ms
                # is for services that run for days)
                os.environ["PYPROF_INTERVAL"] = _DEFAULT_INTERVAL
            if mode:
                os.environ["PYPROF_MODE"] = self.mode = mode
            if native:
                os.environ["PYPROF_NATIVE"] = "1"
                self.native = True
            try:
                lib = ctypes.CDLL(_library_path())
            finally:
                # children must not inherit what was meant for this load
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            self.loaded_here = True
        for name in ("pyprof_start", "pyprof_stop", "pyprof_mark"):
            getattr(lib, name).argtypes = [ctypes.c_char_p]
            getattr(lib, name).restype = ctypes.c_int
        lib.pyprof_path.restype = ctypes.c_char_p
        lib.pyprof_thread_start.restype = ctypes.c_int
        lib.pyprof_thread_name.argtypes = [ctypes.c_char_p]
        lib.pyprof_thread_name.restype = ctypes.c_int
        self.lib = lib

    def start(self, label):
        if self.lib.pyprof_start(label.encode()) != 0:
            raise PyprofError("libpyprof.so is dormant in this process "
                              "(PYPROF_ENABLE=0, or an unsupported Python)")

    def stop(self, label):
        self.lib.pyprof_stop(label.encode())

    def path(self):
        p = self.lib.pyprof_path()
        return p.decode() if p else None


_library = None


def _arm_new_thread(frame, event, arg):
    sys.setprofile(None)
    if _library is not None:
        if _library.loaded_here:
            _library.lib.pyprof_thread_start()
        # the main thread may be in join() for this thread's whole life,
        # and the library learns names from the main thread
        _library.lib.pyprof_thread_name(threading.current_thread().name.encode())


def _split_options(line):
    """Leading options of a %pyprof line, and the statement after them."""
    opts, rest = [], line.strip()
    while rest.startswith("-"):
        token, _, after = rest.partition(" ")
        name, eq, value = token.partition("=")
        if name in _FLAGS and not eq:
            opts.append(name)
        elif name in _VALUED or name in ("--interval", "--mode"):
            if not eq:
                value, _, after = after.strip().partition(" ")
                if not value:
                    raise PyprofError("%s needs a value" % name)
            opts.append((name, shlex.split(value)[0] if value else value))
        else:
            raise PyprofError("unknown option %s (see %%pyprof? for help)" % name)
        rest = after.strip()
    return opts, rest


def _run(ip, line, cell):
    global _library
    opts, stmt = _split_options(line)
    code = cell if cell is not None else stmt
    if not code.strip():
        raise PyprofError("nothing to profile: give a statement or use %%pyprof")
    interval = mode = None
    native = False
    report = []
    for o in opts:
        if o == "--native":
            native = True
        elif isinstance(o, str):
            report.append(o)
        elif o[0] == "--interval":
            interval = o[1]
        elif o[0] == "--mode":
            if o[1] not in _MODES:
                raise PyprofError("--mode: expected cpu or wall, got '%s'" % o[1])
            mode = o[1]
        else:
            report += [o[0], o[1]]
    if _library is None:
        _library = _Library(interval, mode, native)
    elif native and not _library.native:
        print("pyprof: --native is fixed when the library loads (loaded "
              "without it); ignored", file=sys.stderr)
    elif interval:
        print("pyprof: --interval is fixed when the library loads; ignored",
              file=sys.stderr)
    if mode and mode != _library.mode:
        # the report reads the mode from the file: say why it differs
        print("pyprof: --mode is fixed when the library loads (%s mode); "
              "ignored" % _library.mode, file=sys.stderr)
    compiled = compile(code, _CELL_FILE, "exec")
    label = "ipython-%s" % uuid.uuid4().hex
    hooked = threading._profile_hook is None
    if hooked:
        # Each thread the cell starts tells its name and, where the
        # library was loaded with dlopen (it then cannot see threads
        # start), arms its own timer, on its first call event, and takes
        # the hook off again at once.
        threading.setprofile(_arm_new_thread)
    _library.start(label)
    try:
        exec(compiled, ip.user_ns)
    finally:
        _library.stop(label)
        if hooked:
            threading.setprofile(None)
    path = _library.path()
    cmd = [_collector_path(), "report", "--window", label,
           "--preset", "ipython", "--hide", "file:" + os.path.join(_HERE, "*"),
           # the cell that called the magic, not the code it profiles
           "--hide", "file:<ipython-input-* name:<module>",
           "--color=never"] + report + [path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    # the live file is "cut short" by nature: that warning is noise here
    err = "\n".join(l for l in r.stderr.splitlines() if "was cut short" not in l)
    sys.stdout.write(r.stdout)
    if err:
        print(err, file=sys.stderr)


def load_ipython_extension(ip):
    from IPython.core.magic import register_line_cell_magic

    def pyprof(line, cell=None):
        try:
            _run(ip, line, cell)
        except PyprofError as e:
            print("pyprof: %s" % e, file=sys.stderr)

    pyprof.__doc__ = __doc__
    register_line_cell_magic(pyprof)
