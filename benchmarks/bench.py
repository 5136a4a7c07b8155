#!/usr/bin/env python3
"""Measures where build time goes, as ratios that hold from one machine to the next.

    .venv/bin/python benchmarks/bench.py [--clinics N] [--repeat R]

It builds a franchise of N copies of the example clinic (with different colours)
and reports:
  1. one shared Printer for the batch  vs  a new Printer per document
     (fonts loaded and stylesheets parsed once, instead of once per document);
  2. a rebuild with nothing changed (build cache)  vs  a cold build;
  3. rendering HTML  vs  printing PDF  vs  inspecting the PDF (the quality gate), per document.
Each figure is the best of R runs. Ratios, not seconds, are what to compare.

    .venv/bin/python benchmarks/bench.py --memory --clinics 100

builds a franchise of N clinics once, in worker processes as a real build does, and
reports a warm worker's memory (past its first clinic) in the first and the last tenth of the batch,
its own (private) and its resident size: a ratio near 1.0 means memory stays flat however long the batch.

    .venv/bin/python benchmarks/bench.py --goals --clinics 40

measures issue 12's goals in one run, side by side, each as a ratio with its goal and PASS or FAIL:
the generator against a sequential loop in one Playwright-driven Chromium printing the same HTML
(Debian's /usr/bin/chromium; skipped with a message where it is absent), against bare WeasyPrint
(`HTML(string=…).write_pdf()` in one process) with and without the quality gate, --jobs 2 against
--jobs 1, an unchanged rebuild, a cold default build, and file sizes. A booklet is its own HTML (cover and
contents) and its parts' HTML: bare WeasyPrint and Chromium print those too. A 40-clinic run takes about
12 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader  # noqa: E402

from brochures import DATA_DIR  # noqa: E402
from brochures.building.tasks import RENDER, Budget, Task, print_tasks
from brochures.building.workers import Workers
from brochures.load.clinic import find_clinic_file, load_clinic
from brochures.load.content import load_content
from brochures.pdf.inspection import inspect_pdf
from brochures.pdf.printer import Printer
from brochures.plan.documents import booklet_parts, plan_documents
from brochures.render.html import HtmlRenderer
from generate import main  # noqa: E402


def franchise(folder: Path, clinics: int) -> Path:
    """A data folder with `clinics` rebranded copies of the example clinic."""
    data = folder / "data"
    shutil.copytree(DATA_DIR, data)
    example = data / "clinics" / "example"
    for number in range(1, clinics):
        copy = data / "clinics" / f"clinic-{number:02d}"
        shutil.copytree(example, copy)
        config = copy / "clinic.yaml"
        colour = f'"#{(number * 37) % 200:02X}{(number * 71) % 200:02X}{(number * 113) % 200:02X}"'
        config.write_text(
            config.read_text().replace('"#0F6E6E"', colour).replace("Example Aesthetics", f"Clinic {number:02d}")
        )
    return data


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def quiet(run):
    def wrapped():
        with contextlib.redirect_stdout(io.StringIO()):
            run()

    return wrapped


def main_benchmark(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="measure worker memory over one long batch instead")
    parser.add_argument("--goals", action="store_true", help="measure issue 12's goals, each with PASS or FAIL")
    args = parser.parse_args(argv)
    if args.memory:
        return memory_benchmark(args.clinics)
    if args.goals:
        return goals_benchmark(args.clinics)

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = franchise(folder, args.clinics)
        content = load_content(data)
        clinics = [
            load_clinic(find_clinic_file(slug, data), content)
            for slug in sorted(p.name for p in (data / "clinics").iterdir())
        ]
        documents = plan_documents(clinics, content, folder / "out-bench")
        renderer = HtmlRenderer(content)
        # Booklets are left out here: they bind the pages these lay out (the --goals run counts them).
        documents = [document for document in documents if document.kind != "booklet"]
        pages = [(document, renderer.render(document)) for document in documents]
        print(f"{len(documents)} documents for {len(clinics)} clinics, best of {args.repeat} runs")

        def shared_printer():
            printer = Printer()
            for document, html in pages:
                printer.print_pdf(document, html)

        def printer_per_document():
            for document, html in pages:
                Printer().print_pdf(document, html)

        def render_only():
            fresh = HtmlRenderer(content)
            for document in documents:
                fresh.render(document)

        printer = Printer()
        printed = [(document, printer.print_pdf(document, html)[0]) for document, html in pages]

        def inspect_only():
            for document, pdf in printed:
                inspect_pdf(pdf, pdf_ua=document.variant == "standard")

        shared = best_of(args.repeat, shared_printer)
        inspecting = best_of(args.repeat, inspect_only)
        separate = best_of(args.repeat, printer_per_document)
        rendering = best_of(args.repeat, render_only)

        out = folder / "out"
        command = ["--data", str(data), "--out", str(out)]

        def cold():
            shutil.rmtree(out, ignore_errors=True)
            main(command)

        cold_build = best_of(args.repeat, quiet(cold))
        quiet(lambda: main(command))()
        warm_build = best_of(args.repeat, quiet(lambda: main(command)))

    n = len(documents)
    print(f"  printing, shared Printer     {shared / n * 1000:7.0f} ms per document")
    print(f"  printing, Printer per doc    {separate / n * 1000:7.0f} ms per document")
    print(f"  rendering HTML               {rendering / n * 1000:7.1f} ms per document")
    print(f"  inspecting the PDF           {inspecting / n * 1000:7.0f} ms per document")
    print(f"  whole build, cold            {cold_build:7.2f} s")
    print(f"  whole build, nothing changed {warm_build:7.2f} s")
    print("Ratios:")
    print(f"  Printer per document / shared Printer   {separate / shared:5.2f}x  (fonts and CSS loaded once per batch)")
    print(f"  cold build / unchanged rebuild          {cold_build / warm_build:5.1f}x  (build cache)")
    print(f"  printing PDF / rendering HTML           {shared / rendering:5.0f}x  (where the time goes)")
    print(f"  inspecting / printing                   {inspecting / shared:5.2f}x  (the cost of the quality gate)")
    return 0


def memory_benchmark(clinic_count: int) -> int:
    """Worker memory at the start and at the end of one long batch, printed the way a real build prints.

    Two figures per worker: its own memory (resident pages no other process shares: what each more worker costs)
    and its resident size, which also counts the pages of the modules it shares with the build that forked it."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = franchise(folder, clinic_count)
        content = load_content(data)
        clinics = [
            load_clinic(find_clinic_file(slug, data), content)
            for slug in sorted(p.name for p in (data / "clinics").iterdir())
        ]
        documents = plan_documents(clinics, content, folder / "out")
        started = time.perf_counter()
        with Workers(content, jobs=2, budget=Budget(), temp_dir=folder) as workers:
            rendered = workers.run([Task(RENDER, document) for document in documents])
            printed = workers.run(print_tasks(rendered, content))
        seconds = time.perf_counter() - started
    failed = [o for o in printed if o.error]
    workers_used = len({o.worker[0] for o in printed})
    print(
        f"{len(printed)} documents for {len(clinics)} clinics in {seconds:.0f} s, {len(failed)} failed, "
        f"{workers_used} worker processes used in turn"
    )
    # A worker's memory climbs while it prints its first clinic (fonts, glyphs, caches), then holds: flat means a
    # warm worker (one past its first clinic) uses no more at the end of the batch than at its start.
    first_clinic: dict[int, str] = {}
    warm = [o for o in printed if first_clinic.setdefault(o.worker[0], o.document.clinic.key) != o.document.clinic.key]
    tenth = max(1, len(warm) // 10)
    rows = []
    for name, index in (("own (private)", 2), ("resident", 1)):
        first = max(o.worker[index] for o in warm[:tenth])
        last = max(o.worker[index] for o in warm[-tenth:])
        peak = max(o.worker[index] for o in printed)
        print(
            f"  worker memory, {name:14} warm, first tenth {first:5.0f} MB, last tenth {last:5.0f} MB;"
            f" peak {peak:5.0f} MB"
        )
        rows.append((name, first, last, peak))
    print(
        "Goals (flat: a warm worker's memory in the last tenth of the batch / the first;"
        " peak ≤ 150 MB of a worker's own memory):"
    )
    for name, first, last, _peak in rows:
        print(
            f"  {name + ', warm, last / first tenth':42} {last / first:6.2f}x  goal ≤ 1.1x   "
            f"{verdict(last / first, 1.1, False)}"
        )
    print(
        f"  {'peak own memory per worker (MB)':42} {rows[0][3]:6.0f}   goal ≤ 150    {verdict(rows[0][3], 150, False)}"
    )
    print(
        "  (own memory: the pages no other process shares. The resident size also counts the pages a worker still"
        " shares with the build that forked it: its imported modules and everything the build holds.)"
    )
    return 1 if failed else 0


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync"
]


def varied_franchise(folder: Path, clinics: int) -> Path:
    """Like `franchise`, with varied names and page sizes too (A4, Letter, A5 in turn)."""
    data = franchise(folder, clinics)
    sizes = ["A4", "Letter", "A5"]
    for number, config in enumerate(sorted((data / "clinics").glob("*/clinic.yaml"))):
        text = config.read_text().replace("page_size: A4", f"page_size: {sizes[number % 3]}")
        config.write_text(text.replace("name: Clinic", "name: Skin and Hair Clinic" if number % 2 else "name: Clinic"))
    return data


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def printable_pages(data: Path, folder: Path):
    """Every document's HTML and stylesheets, as the generator prints them (rendered once, outside the timings):
    (document, HTML, stylesheets, parts), where a booklet's parts are the leaflets it binds, each (document, HTML,
    stylesheets)."""
    content = load_content(data)
    clinics = [
        load_clinic(find_clinic_file(slug, data), content)
        for slug in sorted(p.name for p in (data / "clinics").iterdir())
    ]
    documents = plan_documents(clinics, content, folder / "unused")
    renderer, printer = HtmlRenderer(content), Printer()

    def page(document):
        return document, renderer.render(document), [text for _, text in printer.stylesheets(document)]

    return [
        (
            *page(document),
            [page(part) for part in booklet_parts(document, content)] if document.kind == "booklet" else [],
        )
        for document in documents
    ]


def bare_weasyprint(pages) -> None:
    """What a user would write without the generator: HTML(string=…).write_pdf() for each document, one process.
    A booklet is its own HTML (cover and contents) and its parts' HTML, laid out and bound with Document.copy:
    without the generator's reuse, a user lays its parts out again."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    sheets: dict[str, CSS] = {}

    def lay_out(document, html, texts):
        styles = [
            sheets.setdefault(text, CSS(string=text, base_url=str(STYLES) + "/", font_config=fonts)) for text in texts
        ]
        return HTML(string=html, base_url=document.clinic.folder.as_uri() + "/").render(
            stylesheets=styles, font_config=fonts, pdf_tags=True
        )

    for document, html, texts, parts in pages:
        laid_out = lay_out(document, html, texts)
        if parts:
            laid_out = laid_out.copy(
                [page for one in [laid_out, *(lay_out(*part) for part in parts)] for page in one.pages]
            )
        laid_out.write_pdf(pdf_tags=True)


STYLES = Path(__file__).resolve().parent.parent / "styles"


def chromium_loop(pages, folder: Path) -> None:
    """One Chromium, one page after another: the same HTML with its stylesheets inlined, printed to PDF."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        number = 0
        for document, html, texts, parts in pages:
            # A booklet: its own HTML, then its parts', each printed to a PDF of its own (binding them is not counted).
            for one, one_html, one_texts in [(document, html, texts), *parts]:
                css = "\n".join(inline_imports(text) for text in one_texts)
                # Beside nothing: resources are loaded by absolute file URLs.
                source = folder / f"page-{number}.html"
                number += 1
                source.write_text(
                    one_html.replace(
                        "<head>", f'<head><base href="{one.clinic.folder.as_uri()}/"><style>{css}</style>', 1
                    )
                )
                page.goto(source.as_uri())
                page.pdf(
                    format=one.clinic.config.page_size,
                    print_background=True,
                    prefer_css_page_size=True,
                    tagged=True,
                    outline=True,
                )
        browser.close()


def inline_imports(text: str) -> str:
    return text.replace('@import "common.css";', (STYLES / "common.css").read_text())


def build_command(data: Path, out: Path, *extra: str) -> float:
    """The real command in a process of its own, as a user runs it: start-up and imports included."""
    command = [
        sys.executable, str(Path(__file__).resolve().parent.parent / "generate.py"), "--data", str(data), "--out",
        str(out), *extra
    ]
    return timed(lambda: subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False))


def verdict(value: float, goal: float, higher_is_better: bool) -> str:
    return "PASS" if (value >= goal if higher_is_better else value <= goal) else "FAIL"


def goals_benchmark(clinic_count: int) -> int:
    from brochures.pdf import printer as printing
    from brochures.pdf.facts import Inspection

    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = varied_franchise(folder, clinic_count)
        pages = printable_pages(data, folder)
        documents = len(pages)
        print(f"{documents} documents for {clinic_count} clinics (A4, Letter and A5; brochures, comparison, booklet)")

        generator_1 = build_command(data, folder / "out-1", "--jobs", "1")
        generator_2 = build_command(data, folder / "out-2", "--jobs", "2")
        build_command(data, folder / "out-2", "--jobs", "2")
        unchanged_all = build_command(data, folder / "out-2", "--jobs", "2")
        # Without the quality gate: the same build in this process, with the gate's two parts short-circuited, the
        # read-back of the finished PDF (check_pdf: metadata, tags, page boxes, links) and its inspection (contrast,
        # type, fonts, safety text, QR code, accessibility), plus this process's own start-up, measured as the time
        # `--version` takes. Everything else (loading, content checks, rendering, printing, writing, reports) is timed.
        gate = printing.check_pdf, printing.inspect_pages
        printing.check_pdf = lambda document, pdf, reader=None: len((reader or PdfReader(io.BytesIO(pdf))).pages)
        printing.inspect_pages = lambda *args, **kwargs: (
            Inspection(qr_codes=[kwargs["expected"].booking_url], body_text_pt=12.0, smallest_text_pt=12.0),
            [],
        )
        try:
            no_gate = timed(quiet(lambda: main(["--data", str(data), "--out", str(folder / "out-3"), "--jobs", "1"])))
        finally:
            printing.check_pdf, printing.inspect_pages = gate
        no_gate += build_command(data, folder / "out-3", "--version")
        bare = timed(lambda: bare_weasyprint(pages))
        if CHROMIUM.exists():
            chromium = timed(lambda: chromium_loop(pages, folder))
            rows.append(("Chromium loop / generator (default jobs)", chromium / generator_2, 1.5, True))
        else:
            print(
                f"  (Chromium comparison skipped: no {CHROMIUM}; install Debian's chromium, as scripts/setup.sh does)"
            )
        rows += [
            ("generator without gate / bare WeasyPrint", no_gate / bare, 1.10, False),
            ("generator with gate / bare WeasyPrint", generator_1 / bare, 1.35, False),
            ("--jobs 1 / --jobs 2", generator_1 / generator_2, 1.8, True),
        ]
        sizes = {pdf.name: pdf.stat().st_size for pdf in (folder / "out-2").rglob("*.pdf")}
        brochure_kb = max(size for name, size in sizes.items() if name not in ("comparison.pdf", "booklet.pdf")) / 1024
        booklet_kb = max(size for name, size in sizes.items() if name == "booklet.pdf") / 1024

        example = folder / "out-example"
        cold_default = build_command(DATA_DIR, example)
        # The first unchanged rebuild leaves the stamp a later one is answered from.
        build_command(DATA_DIR, example)
        unchanged_one = build_command(DATA_DIR, example)

    print(
        f"  generator, --jobs 1            {generator_1:7.1f} s   "
        f"({generator_1 / documents * 1000:.0f} ms per document)"
    )
    print(f"  generator, --jobs 2            {generator_2:7.1f} s")
    print(f"  generator, --jobs 1, no gate   {no_gate:7.1f} s")
    print(f"  bare WeasyPrint, one process   {bare:7.1f} s")
    if CHROMIUM.exists():
        print(f"  Chromium, one browser, in turn {chromium:7.1f} s")
    print("Goals (ratios measured in this run; seconds only where the goal is in seconds):")
    for name, value, goal, higher in rows:
        print(f"  {name:42} {value:6.2f}x  goal {'≥' if higher else '≤'} {goal}x   {verdict(value, goal, higher)}")
    for name, value, goal in (
        ("unchanged rebuild, one clinic", unchanged_one, 0.5),
        (
            f"unchanged rebuild, {clinic_count} clinics",
            unchanged_all,
            2.0 if clinic_count >= 40 else 0.5 * clinic_count,
        ),
        ("cold default build", cold_default, 1.5),
        ("largest standard brochure (KB)", brochure_kb, 100),
        ("largest booklet (KB)", booklet_kb, 250),
    ):
        print(f"  {name:42} {value:6.2f}   goal ≤ {goal:g}    {verdict(value, goal, False)}")
    print("  (worker memory: run --memory --clinics 100)")
    return 0


if __name__ == "__main__":
    sys.exit(main_benchmark())
