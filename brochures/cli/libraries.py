"""A command's modules imported the quick way: WeasyPrint's native libraries (GLib, Pango, HarfBuzz, Fontconfig)
found by their file names, without a search that costs about 0.2 s of every build's start, and no garbage collection
among the objects the imports make. The standard library only."""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import sys


def import_command(name: str):
    """Import a command's module, and with it WeasyPrint, the quick way; the usual way if that fails."""
    if name in sys.modules:
        return sys.modules[name]
    collecting = gc.isenabled()
    # The imports make some 160,000 objects that live as long as the process, and the collector would go over them
    # again and again while they are made (about 0.06 s). Frozen afterwards, they are left out of the collections
    # while the build reads its input too (Workers puts them back when it forks).
    gc.disable()
    try:
        # WeasyPrint prints a page of advice before it gives up on a library: not for an attempt that is made again.
        with found_by_file_name(), contextlib.redirect_stdout(io.StringIO()):
            return importlib.import_module(name)
    except OSError:
        # A library installed under a file name WeasyPrint does not list: found by the search, as before.
        return importlib.import_module(name)
    finally:
        if collecting:
            gc.freeze()
            gc.enable()


@contextlib.contextmanager
def found_by_file_name():
    """WeasyPrint loads each library by trying a list of names in turn (`libgobject-2.0-0`, `gobject-2.0-0`,
    `gobject-2.0`, then `libgobject-2.0.so.0`, …), and cffi asks `ctypes.util.find_library` about each name that
    does not open as it is. On Linux that runs ldconfig, then gcc and ld, for every name that fails: 22 searches.
    All find_library can answer on Linux is a file name such as `libgobject-2.0.so.0`, which cffi then opens like
    any other; WeasyPrint's list has that file name of each library further on, and opening it finds the library
    in the same places. So while the modules load, find_library finds nothing, and the file names are tried."""
    if not sys.platform.startswith("linux"):
        yield
        return
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = search
