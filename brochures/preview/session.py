"""Live preview: builds, serves a gallery of every page on this machine, and rebuilds whatever a saved change touches.

In: the options of a build (`BuildOptions`, parsed by `generate.py serve` as for `python generate.py`), a host
and a port. Each build is `build(options)`, whose result says which clinics were built and what went wrong.
Out: the output folder as a build leaves it, plus out/.preview/ (the gallery page and the pictures of the pages),
served read-only over HTTP.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import watchfiles

from brochures import DATA_DIR, STYLES_DIR, TEMPLATES_DIR, exits
from brochures.building.options import BuildOptions
from brochures.building.pipeline import build
from brochures.building.result import BuildResult
from brochures.files.output_folder import OutputFolderError, WriteError
from brochures.files.yaml_reader import read_yaml
from brochures.preview.gallery import ClinicShown, write_gallery
from brochures.preview.server import LOCAL_NAMES, BuildEvents, make_server
from brochures.problems import InputError, display_path
from brochures.schema.errors import validate
from brochures.schema.strings import Strings

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
# Addresses that name no one machine: bound to one, only the names allowed are answered.
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# Changes are gathered until none has come for STEP_MS (an editor saves a file in several writes), at most DEBOUNCE_MS.
STEP_MS, DEBOUNCE_MS = 200, 1600


def host_name(text: str) -> str:
    """`text` as a name a Host header may carry: a host name or an IP address, lower-case, an IPv6 one bare.

    Raises ValueError, saying why, for anything else: nothing, a space, a port, a character no host name has.
    """
    expected = "expected a host name or an IP address"
    if not text:
        raise ValueError(f"{expected}, got nothing")
    if any(character.isspace() for character in text):
        raise ValueError(f"{expected} without spaces, got {text!r}")
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    if address is not None and (bare == text or address.version == 6) and "%" not in bare:
        return str(address)
    if ":" in text and text.rsplit(":", 1)[1].isdigit():
        raise ValueError(f"{expected} without a port (the server's own port is implied), got {text!r}")
    labels = text.split(".")
    # The last label all digits: an IPv4 address that is not one (1.2.3.999), or a number.
    if len(text) > 253 or not all(HOST_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{expected} (letters, digits, '-' and '.'), got {text!r}")
    return text.lower()


def allowed_names(host: str, allow_hosts: Iterable[str] = ()) -> frozenset[str]:
    """The names a request may be addressed to (against DNS rebinding): this machine's own (localhost, 127.0.0.1,
    ::1), `host` unless it is a wildcard, and `allow_hosts` (ValueError for one that is not a host name)."""
    names = set(LOCAL_NAMES) | {host_name(name) for name in allow_hosts}
    if host not in WILDCARDS:
        # An address the socket takes but no Host header carries (fe80::1%eth0): only the other names reach it.
        with contextlib.suppress(ValueError):
            names.add(host_name(host))
    return frozenset(names)


def serve(options: BuildOptions, host: str, port: int, allow_hosts: Sequence[str] = ()) -> int:
    """Build, serve the gallery on `host`:`port`, and build again on every change, until Ctrl-C.

    Only requests addressed to allowed_names(host, allow_hosts) are answered."""
    events = BuildEvents()
    try:
        server = make_server(options.out, events, host, port, allowed_names(host, allow_hosts))
    except OSError as error:
        print(
            f"could not serve the preview on {host} port {port}: {error.strerror or error}; "
            "choose another port with --port",
            file=sys.stderr,
        )
        return exits.OUTPUT
    threading.Thread(target=server.serve_forever, name="preview server", daemon=True).start()
    # A wildcard names no machine (and a request addressed to it is refused): this machine's own name for it.
    shown_host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host) or (
        f"[{host}]" if ":" in host else host
    )
    elsewhere = "".join(
        f"\n         http://{f'[{name}]' if ':' in name else name}:{server.server_address[1]}/" for name in allow_hosts
    )
    preview = Preview(options, events)
    try:
        with stopped_by_sigterm():
            preview.build()
            # Said once the gallery exists, so that the address opens it at once.
            print(
                f"\nPreview: http://{shown_host}:{server.server_address[1]}/  (open it in your browser; "
                f"it follows every change you save. Ctrl-C to stop.){elsewhere}",
                flush=True,
            )
            for changes in watchfiles.watch(
                *preview.watched(),
                watch_filter=preview.worth_a_build,
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                raise_interrupt=True,
            ):
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


class Preview:
    """One build after another, each followed by a new gallery page and an event that refreshes open pages."""

    def __init__(self, options: BuildOptions, events: BuildEvents):
        self.options, self.events = options, events
        # Clinic folder → how it was last shown (kept while it is invalid)
        self.known: dict[Path, ClinicShown] = {}

    def watched(self) -> list[Path]:
        """The content, every clinic folder named on the command line, templates and styles."""
        paths = [self.options.data, TEMPLATES_DIR, STYLES_DIR]
        for reference in self.options.clinics:
            path = Path(reference)
            paths.append(path.parent if path.is_file() else path)
        return [path for path in dict.fromkeys(Path(os.path.abspath(p)) for p in paths) if path.is_dir()]

    def worth_a_build(self, change: watchfiles.Change, path: str) -> bool:
        """Not the build's own files (should --out lie inside a watched folder), nor editors' swap and backup files."""
        return (
            watchfiles.DefaultFilter()(change, path)
            and not Path(path).is_relative_to(self.options.out)
            and not Path(path).name.startswith(".brochures-partial-")
        )

    def build(self) -> None:
        self.events.started()
        print("Building…", flush=True)
        result, problems = self.run_pipeline()
        self.refresh_clinics(result)
        try:
            write_gallery(
                self.options.out,
                sorted(self.known.values(), key=lambda clinic: clinic.slug),
                problems,
                self.events.build_id + 1,
                self.page_strings(),
            )
        except WriteError as error:
            print(error, file=sys.stderr)
        self.events.finished()
        print(
            "Preview updated." if not problems else "Preview updated: some input needs fixing (shown on the page).",
            flush=True,
        )

    def run_pipeline(self) -> tuple[BuildResult | None, list[str]]:
        """Build as `python generate.py` would; what was built, and each thing that went wrong, once."""
        try:
            result = build(self.options)
        except (OutputFolderError, WriteError) as error:
            print(error, file=sys.stderr)
            return None, [str(error)]
        if result.exit_code() == exits.OK:
            return result, []
        return result, list(dict.fromkeys([str(problem) for problem in result.problems] + result.failures()))

    def refresh_clinics(self, result: BuildResult | None) -> None:
        """The clinics the build found valid; one that is not keeps what it last showed."""
        for clinic in result.clinics if result else []:
            # Its report shows every language it offers (es/facial.pdf…).
            if clinic.main:
                self.known[clinic.folder] = ClinicShown(
                    clinic.slug, clinic.config.name, clinic.locale, clinic.strings, clinic.timezone)
        self.known = {folder: shown for folder, shown in self.known.items() if folder.is_dir()}

    def page_strings(self) -> Strings:
        """The page's own labels: the first clinic's language, else English from the content (or the project's)."""
        if self.known:
            return min(self.known.values(), key=lambda clinic: clinic.slug).strings
        with contextlib.suppress(InputError):
            return validate(Strings, read_yaml(self.options.data / "strings" / "en.yaml"))
        # The project's own: broken only by a bug.
        return validate(Strings, read_yaml(DATA_DIR / "strings" / "en.yaml"))


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
