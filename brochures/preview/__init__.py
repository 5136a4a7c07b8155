"""Live preview: builds, serves a gallery of every page on this machine, and rebuilds whatever a saved change touches.

In: the options of a build (the same as `python generate.py`), --host and --port, and the pipeline itself
(generate.py's `build_parser`, `number_in`, `build` and `load_clinics`), handed in so that the preview calls the pipeline and
never the reverse. Out: the output folder as a build leaves it, plus out/.preview/ (the gallery page and the
pictures of the pages), served read-only over HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import watchfiles

from brochures import DATA_DIR, STYLES_DIR, TEMPLATES_DIR, exits
from brochures.files.output_folder import OutputFolderError, WriteError
from brochures.files.yaml_reader import read_yaml
from brochures.load.content import load_content
from brochures.load.loaded import Content
from brochures.preview.gallery import ClinicShown, write_gallery
from brochures.preview.server import BuildEvents, make_server
from brochures.problems import InputError, display_path
from brochures.schema.errors import validate
from brochures.schema.strings import Strings

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
# Changes are gathered until none has come for STEP_MS (an editor saves a file in several writes), at most DEBOUNCE_MS.
STEP_MS, DEBOUNCE_MS = 200, 1600


def serve(argv: list[str], pipeline) -> int:
    """`python generate.py serve [--host H] [--port N] [build options]`: build, serve, rebuild on change, until Ctrl-C."""
    args = parse_arguments(argv, pipeline)
    events = BuildEvents()
    try:
        server = make_server(args.out, events, args.host, args.port)
    except OSError as error:
        print(f"could not serve the preview on {args.host} port {args.port}: {error.strerror or error}; "
              "choose another port with --port", file=sys.stderr)
        return exits.OUTPUT
    threading.Thread(target=server.serve_forever, name="preview server", daemon=True).start()
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    preview = Preview(args, pipeline, events)
    try:
        with stopped_by_sigterm():
            preview.build()
            # Said once the gallery exists, so that the address opens it at once.
            print(f"\nPreview: http://{shown_host}:{server.server_address[1]}/  (open it in your browser; "
                  "it follows every change you save. Ctrl-C to stop.)", flush=True)
            for changes in watchfiles.watch(*preview.watched(), watch_filter=preview.worth_a_build,
                                            debounce=DEBOUNCE_MS, step=STEP_MS, raise_interrupt=True):
                if names := changed_names(changes):
                    print(f"\nChanged: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}", flush=True)
                preview.build()
    except KeyboardInterrupt:
        print("\nStopped the preview. The documents built so far are complete.", file=sys.stderr)
    finally:
        events.stop()
        server.shutdown()
        server.server_close()
    return exits.OK


# An editor's or a tool's scratch files, made and removed around a save: vim's swap and backup files and its 4913
# probe, Emacs' lock and autosave files, `sed -i`'s temporary file (sed and six letters), a `.tmp`.
_SCRATCH = re.compile(r"\.#.*|#.*#|.*~|.*\.sw[a-p]|4913|sed[A-Za-z0-9]{6}|.*\.tmp")


def changed_names(changes: set[tuple[watchfiles.Change, str]]) -> list[str]:
    """The files to name as changed: those that still exist and are not an editor's scratch files."""
    paths = {Path(path) for _, path in changes}
    return sorted(display_path(path) for path in paths if path.exists() and not _SCRATCH.fullmatch(path.name))


def parse_arguments(argv: list[str], pipeline) -> argparse.Namespace:
    parser = pipeline.build_parser()
    parser.prog = "generate.py serve"
    parser.description = ("Build, then show every page of every document in your browser, with each document's verdict; "
                          "rebuild and refresh the page whenever a clinic's files, the content, a template or a style changes.")
    parser.epilog = "Exit codes: 0 stopped (Ctrl-C or SIGTERM); 2 usage; 3 the port is in use or cannot be served on."
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"the address to serve on (default: {DEFAULT_HOST}, this machine only)")
    parser.add_argument("--port", type=pipeline.number_in(int, 1, 65535), default=DEFAULT_PORT, metavar="N",
                        help=f"the port to serve on (default: {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    if args.check or args.approval:
        parser.error("--check and --approval build no brochures to preview: use them without serve")
    args.out = Path(os.path.abspath(args.out))
    return args


class Preview:
    """One build after another, each followed by a new gallery page and an event that refreshes open pages."""

    def __init__(self, args: argparse.Namespace, pipeline, events: BuildEvents):
        self.args, self.pipeline, self.events = args, pipeline, events
        self.known: dict[Path, ClinicShown] = {}  # clinic folder → how it was last shown (kept while it is invalid)

    def watched(self) -> list[Path]:
        """The content, every clinic folder named on the command line, templates and styles."""
        paths = [self.args.data, TEMPLATES_DIR, STYLES_DIR]
        for reference in self.args.clinic or []:
            path = Path(reference)
            paths.append(path.parent if path.is_file() else path)
        return [path for path in dict.fromkeys(Path(os.path.abspath(p)) for p in paths) if path.is_dir()]

    def worth_a_build(self, change: watchfiles.Change, path: str) -> bool:
        """Not the build's own files (should --out lie inside a watched folder), nor editors' swap and backup files."""
        return (watchfiles.DefaultFilter()(change, path) and not Path(path).is_relative_to(self.args.out)
                and not Path(path).name.startswith(".brochures-partial-"))

    def build(self) -> None:
        self.events.started()
        print("Building…", flush=True)
        problems = self.run_pipeline()
        content = self.refresh_clinics()
        try:
            write_gallery(self.args.out, sorted(self.known.values(), key=lambda clinic: clinic.slug), problems,
                          self.events.build_id + 1, self.page_strings(content))
        except WriteError as error:
            print(error, file=sys.stderr)
        self.events.finished()
        print("Preview updated." if not problems else "Preview updated: some input needs fixing (shown on the page).",
              flush=True)

    def run_pipeline(self) -> list[str]:
        """Build as `python generate.py` would, and return what it said went wrong: the lines it printed to stderr."""
        said = io.StringIO()
        with contextlib.redirect_stderr(_Both(sys.stderr, said)):
            try:
                code = self.pipeline.build(self.args, time.perf_counter())
            except (OutputFolderError, WriteError) as error:
                print(error, file=sys.stderr)
                code = exits.OUTPUT
        return problems_said(said.getvalue()) if code != exits.OK else []

    def refresh_clinics(self) -> Content | None:
        """The clinics that are valid now; one that is not keeps what it last showed."""
        try:
            content = load_content(self.args.data)
        except InputError:
            return None
        with contextlib.redirect_stderr(io.StringIO()):  # the build has said all there is to say already
            clinics, _ = self.pipeline.load_clinics(self.args.clinic, self.args.data, content)
        for clinic in clinics:
            if clinic.main:  # its report shows every language it offers (es/facial.pdf…)
                self.known[clinic.folder] = ClinicShown(clinic.slug, clinic.config.name, clinic.locale, clinic.strings)
        self.known = {folder: shown for folder, shown in self.known.items() if folder.is_dir()}
        return content

    def page_strings(self, content: Content | None) -> Strings:
        """The page's own labels: the first clinic's language, else English from the content (or the project's)."""
        if self.known:
            return min(self.known.values(), key=lambda clinic: clinic.slug).strings
        with contextlib.suppress(InputError):
            return validate(Strings, read_yaml(self.args.data / "strings" / "en.yaml"))
        return validate(Strings, read_yaml(DATA_DIR / "strings" / "en.yaml"))  # the project's own: broken only by a bug


def problems_said(said: str) -> list[str]:
    """Each problem a build printed to stderr, once: an input's `file:line field: expected …, got …`, a failed
    document's `path: why`. Not the headings above them ("Failures:"), nor the FAILED column of the document lines,
    whose reasons the closing list of failures repeats."""
    lines = []
    for line in said.splitlines():
        line = line.strip()
        if not line or line.endswith(":"):
            continue
        lines.append(line.removeprefix("FAILED").lstrip() if line.startswith("FAILED ") else line)
    return list(dict.fromkeys(lines))


class _Both(io.TextIOBase):
    """Text written to two streams: the console, and what the gallery shows."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def stopped_by_sigterm():
    """SIGTERM (a service manager, `kill`) stops the preview as Ctrl-C does."""
    def stop(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
