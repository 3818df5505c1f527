/*
 * probe.c - the offsets pyprof needs, as this interpreter's headers see them.
 *
 * Built once per installed CPython with -DPy_BUILD_CORE against its own
 * include directory; prints "name=value" lines that check-layout.sh diffs
 * against what preload/layout.c believes.  The names are the fields of
 * struct py_layout (see PY_LAYOUT_FIELDS in preload/layout.h).  A field
 * this version lacks is simply not printed; the checker reads that as -1.
 * The value comes only from offsetof/sizeof/enum constants, never from a
 * hand-written number: this file is the authority the table answers to.
 */
#include <Python.h>
#include <frameobject.h>
#include <stdio.h>
#include <stddef.h>

#if PY_VERSION_HEX < 0x03090000
#include "internal/pycore_pystate.h"
#else
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030c0000
#include "internal/pycore_gil.h"
#endif
#if PY_VERSION_HEX >= 0x030d0000
#include "internal/pycore_pystate.h" /* _Py_THREAD_ATTACHED */
#endif
#if PY_VERSION_HEX >= 0x030e0000
#include "internal/pycore_stackref.h" /* Py_TAG_BITS */
#endif

#define P(name, value) printf("%s=%ld\n", name, (long)(value))

int main(void)
{
	P("minor", PY_MINOR_VERSION);

	/* _PyRuntime */
	P("rt_initialized", offsetof(_PyRuntimeState, initialized));
#if PY_VERSION_HEX < 0x03090000
	P("rt_finalizing", offsetof(_PyRuntimeState, finalizing));
#else
	P("rt_finalizing", offsetof(_PyRuntimeState, _finalizing));
#endif
	P("rt_interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
	P("rt_main_thread", offsetof(_PyRuntimeState, main_thread));
#if PY_VERSION_HEX < 0x030c0000
	P("rt_tss_key", offsetof(_PyRuntimeState, gilstate.autoTSSkey));
	P("rt_gil_tstate_current",
	  offsetof(_PyRuntimeState, gilstate.tstate_current));
#elif PY_VERSION_HEX < 0x030f0000
	P("rt_tss_key", offsetof(_PyRuntimeState, autoTSSkey));
#endif
#if PY_VERSION_HEX < 0x030f0000 /* 3.15 keeps the gilstate in a C thread-local */
	P("tss_key_off", offsetof(Py_tss_t, _key));
#endif

	/* PyInterpreterState */
	P("is_next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX < 0x030b0000
	P("is_threads_head", offsetof(PyInterpreterState, tstate_head));
#else
	P("is_threads_head", offsetof(PyInterpreterState, threads.head));
#endif
#if PY_VERSION_HEX >= 0x030c0000
	P("is_finalizing", offsetof(PyInterpreterState, _finalizing));
	P("is_gil_ptr", offsetof(PyInterpreterState, ceval.gil));
	P("gil_locked", offsetof(struct _gil_runtime_state, locked));
	P("gil_last_holder", offsetof(struct _gil_runtime_state, last_holder));
#else
	P("rt_gil", offsetof(_PyRuntimeState, ceval.gil));
#endif
	P("gil_size", sizeof(struct _gil_runtime_state));

	/* PyThreadState */
	P("ts_next", offsetof(PyThreadState, next));
	P("ts_interp", offsetof(PyThreadState, interp));
#if PY_VERSION_HEX < 0x030b0000
	P("ts_frame", offsetof(PyThreadState, frame));
#endif
#if PY_VERSION_HEX >= 0x030a0000 && PY_VERSION_HEX < 0x030d0000
	P("ts_cframe", offsetof(PyThreadState, cframe));
#endif
#if PY_VERSION_HEX >= 0x030b0000 && PY_VERSION_HEX < 0x030d0000
	P("cframe_current_frame", offsetof(_PyCFrame, current_frame));
	P("ts_datastack_chunk", offsetof(PyThreadState, datastack_chunk));
	P("ts_datastack_top", offsetof(PyThreadState, datastack_top));
#endif
#if PY_VERSION_HEX >= 0x030d0000
	P("ts_current_frame", offsetof(PyThreadState, current_frame));
	P("ts_state", offsetof(PyThreadState, state));
	P("ts_state_attached", _Py_THREAD_ATTACHED);
#endif
#if PY_VERSION_HEX >= 0x030d0000
	P("ts_status", offsetof(PyThreadState, _status));
#endif
#if PY_VERSION_HEX >= 0x030e0000
	P("ts_holds_gil", offsetof(PyThreadState, holds_gil));
#endif
#if PY_VERSION_HEX >= 0x030f0000
	P("ts_base_frame", offsetof(PyThreadState, base_frame));
#endif
	P("ts_thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030b0000
	P("ts_native_thread_id", offsetof(PyThreadState, native_thread_id));
#endif

	/* frames */
#if PY_VERSION_HEX < 0x030b0000
	P("fr_back", offsetof(PyFrameObject, f_back));
	P("fr_code", offsetof(PyFrameObject, f_code));
	P("fr_lasti", offsetof(PyFrameObject, f_lasti));
#else
	P("fr_back", offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX < 0x030d0000
	P("fr_code", offsetof(_PyInterpreterFrame, f_code));
	P("fr_instr", offsetof(_PyInterpreterFrame, prev_instr));
#else
	P("fr_code", offsetof(_PyInterpreterFrame, f_executable));
	P("fr_instr", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	P("fr_owner", offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030c0000
	P("fr_is_entry", offsetof(_PyInterpreterFrame, is_entry));
#endif
	P("fr_owner_generator", FRAME_OWNED_BY_GENERATOR);
#if PY_VERSION_HEX >= 0x030c0000 && PY_VERSION_HEX < 0x030f0000
	P("fr_owner_cstack", FRAME_OWNED_BY_CSTACK);
#endif
#if PY_VERSION_HEX >= 0x030e0000
	P("fr_owner_interpreter", FRAME_OWNED_BY_INTERPRETER);
	/* f_executable is a _PyStackRef: the low bits are tags */
	P("fr_code_tag", Py_TAG_BITS);
#endif
#endif

#if PY_VERSION_HEX < 0x030e0000
	P("fr_code_tag", 0); /* code pointers are untagged */
#endif

	/* PyCodeObject */
	P("co_filename", offsetof(PyCodeObject, co_filename));
	P("co_name", offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030b0000
	P("co_qualname", offsetof(PyCodeObject, co_qualname));
#endif
	P("co_firstlineno", offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX < 0x030a0000
	P("co_linetable", offsetof(PyCodeObject, co_lnotab));
#else
	P("co_linetable", offsetof(PyCodeObject, co_linetable));
#endif
#if PY_VERSION_HEX < 0x030b0000
	P("co_code", offsetof(PyCodeObject, co_code));
#else
	P("co_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
	P("co_code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
	P("co_size_field", offsetof(PyVarObject, ob_size));
#endif

	/* objects */
	P("ob_type", offsetof(PyObject, ob_type));
	P("ob_size", offsetof(PyVarObject, ob_size));
	P("bytes_sval", offsetof(PyBytesObject, ob_sval));
	P("uni_length", offsetof(PyASCIIObject, length));
	/* state is a bit-field, so offsetof cannot name it: it follows hash */
	P("uni_state", offsetof(PyASCIIObject, hash) + sizeof(Py_hash_t));
	P("uni_ascii_size", sizeof(PyASCIIObject));
	P("uni_compact_size", sizeof(PyCompactUnicodeObject));

#if PY_VERSION_HEX >= 0x030d0000
	P("debug_offsets_size", sizeof(_Py_DebugOffsets));
#endif
	return 0;
}
