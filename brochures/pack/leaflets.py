"""The leaflets a pack attaches: built by the brochure build itself, as the clinic approved them."""

from __future__ import annotations

import io
import sys

from brochures import exits
from brochures.building.console import Console
from brochures.building.options import BuildOptions
from brochures.building.pipeline import build
from brochures.files.output_folder import (
    OutputFolderError,
    WriteError,
)
from brochures.load.approval import approval_status
from brochures.load.loaded import Clinic, Content
from brochures.pack.message import (
    Leaflet,
)
from brochures.plan.documents import LEAFLET, STANDARD
from brochures.problems import display_path


def approved_leaflets(
    args, clinic: Clinic, content: Content, reference: str, slugs: list[str]
) -> tuple[dict[str, Leaflet] | None, int]:
    """The clinic's leaflets for these treatments, built (or found unchanged) by the brochure build itself.

    Every document of the clinic is built, not only these leaflets: the build rewrites the clinic's quality report
    (out/<clinic>/report.json and .html), which must go on listing all of them. Unchanged ones are skipped."""
    # The scorecard is for staff building brochures; here, one line will do (the lines are shown if it fails).
    captured = io.StringIO()
    try:
        result = build(BuildOptions(out=args.out, data=args.data, clinics=(reference,)), Console(out=captured))
        code = result.exit_code()
    except (OutputFolderError, WriteError) as error:
        print(error, file=sys.stderr)
        result, code = None, exits.OUTPUT
    if code != exits.OK:
        print(captured.getvalue(), end="")
        print(f"The leaflets could not be built (exit code {code}), so no email was prepared.", file=sys.stderr)
        # The build's own advice may be another --out: wrong for the pack, whose ledger is here.
        if code == exits.OUTPUT:
            print(
                f"Keep --out {display_path(args.out)} for the pack: its ledger records what was sent, and another "
                "folder would send every email again. Fix the above or wait for the other build, then run the same "
                "command again.",
                file=sys.stderr,
            )
        return None, code
    built = {
        (outcome.document.name, outcome.document.layout, outcome.document.variant): outcome.document.output
        for outcome in result.outcomes
        if outcome.printed and outcome.document.clinic.slug == clinic.slug
    }
    status = approval_status(clinic)
    if not status["approved"]:
        print(
            f"warning: {clinic.config.name}'s leaflets are not approved by its medical lead yet: "
            "every page says \"Draft\". "
            "--send refuses until they are.",
            file=sys.stderr,
        )
    leaflets = {}
    for slug in slugs:
        path = built[(slug, LEAFLET, STANDARD)]
        title = content.of(clinic).treatments[slug].title
        leaflets[slug] = Leaflet(slug=slug, title=title, path=path, data=path.read_bytes())
    heading = (
        "Leaflets, as the clinic approved them"
        if status["approved"]
        else "Leaflets (drafts: not yet approved by the clinic's medical lead)"
    )
    print(
        f"{heading}: {', '.join(display_path(leaflet.path) for leaflet in leaflets.values())} "
        f"(their quality report: {display_path(args.out / clinic.slug / 'report.html')})"
    )
    return leaflets, exits.OK
