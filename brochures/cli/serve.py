"""`python generate.py serve [--host H] [--port N] [--allow-host NAME] [build options]`: build, serve, rebuild on
change, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from brochures.cli.build import build_parser, number_in, options_from
from brochures.preview.session import DEFAULT_HOST, DEFAULT_PORT, host_name, serve


def allowed_host(text: str) -> str:
    """An argparse type: a host name or an IP address a request may be addressed to, without a port."""
    try:
        return host_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def serve_parser() -> argparse.ArgumentParser:
    # --check and --approval are refused with a reason (`run`), not offered: they build no brochures to preview.
    parser = build_parser("generate.py serve", previews=True)
    parser.description = ("Build, then show every page of every document in your browser, with each document's "
                          "verdict; rebuild and refresh the page whenever a clinic's files, the content, a template or "
                          "a style changes.")
    parser.epilog = "Exit codes: 0 stopped (Ctrl-C or SIGTERM); 2 usage; 3 the port is in use or cannot be served on."
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"the address to serve on (default: {DEFAULT_HOST}, this machine only)")
    parser.add_argument("--port", type=number_in(int, 1, 65535), default=DEFAULT_PORT, metavar="N",
                        help=f"the port to serve on (default: {DEFAULT_PORT})")
    parser.add_argument("--allow-host", action="append", type=allowed_host, default=[], metavar="NAME",
                        help="also answer requests addressed to NAME, a host name or an IP address without a port, "
                             "e.g. with --host 0.0.0.0 (repeatable; always answered: localhost, 127.0.0.1, [::1] and "
                             "the --host address unless it is a wildcard; any other is refused, against DNS "
                             "rebinding)")
    return parser


def run(argv: list[str]) -> int:
    parser = serve_parser()
    args = parser.parse_args(argv)
    if args.check or args.approval:
        parser.error("--check and --approval build no brochures to preview: use them without serve")
    args.out = Path(os.path.abspath(args.out))
    return serve(options_from(args), args.host, args.port, args.allow_host)
