"""`python generate.py serve [--host H] [--port N] [build options]`: build, serve, rebuild on change, until Ctrl-C."""

from __future__ import annotations

import os
from pathlib import Path

from brochures.cli.build import build_parser, number_in, options_from
from brochures.preview.session import DEFAULT_HOST, DEFAULT_PORT, serve


def run(argv: list[str]) -> int:
    parser = build_parser("generate.py serve")
    parser.description = ("Build, then show every page of every document in your browser, with each document's "
                          "verdict; rebuild and refresh the page whenever a clinic's files, the content, a template or "
                          "a style changes.")
    parser.epilog = "Exit codes: 0 stopped (Ctrl-C or SIGTERM); 2 usage; 3 the port is in use or cannot be served on."
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"the address to serve on (default: {DEFAULT_HOST}, this machine only)")
    parser.add_argument("--port", type=number_in(int, 1, 65535), default=DEFAULT_PORT, metavar="N",
                        help=f"the port to serve on (default: {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    if args.check or args.approval:
        parser.error("--check and --approval build no brochures to preview: use them without serve")
    args.out = Path(os.path.abspath(args.out))
    return serve(options_from(args), args.host, args.port)
