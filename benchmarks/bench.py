#!/usr/bin/env python3
"""Measures where build time goes, and the speed goals, as ratios that hold from one machine to the next.

    .venv/bin/python benchmarks/bench.py [--clinics N] [--repeat R]

It builds a franchise of N copies of the example clinic (with different colours), calling the generator's parts
directly, and reports:
  1. one shared Printer for the batch  vs  a new Printer per document
     (fonts loaded and stylesheets parsed once, instead of once per document);
  2. a rebuild with nothing changed (build cache)  vs  a cold build;
  3. rendering HTML  vs  printing PDF  vs  inspecting the PDF (the quality gate), per document.
Each figure is the best of R runs. Ratios, not seconds, are what to compare.

    .venv/bin/python benchmarks/bench.py --memory --clinics 100

builds a franchise of N clinics once, in worker processes as a real build does, and
reports a warm worker's memory (past its first clinic) in the first and the last tenth of the batch,
its own (private) and its resident size: a ratio near 1.0 means memory stays flat however long the batch.

    .venv/bin/python benchmarks/bench.py --goals --clinics 40 [--repeat R]

measures issue 23's goals side by side in one run, each with its goal and PASS or FAIL, from whole commands run as a
user runs them (start-up included): the generator (`generate.py`, --jobs 2 and --jobs 1), bare WeasyPrint and a
Chromium loop, both printing the documents `generate.py html` wrote for the same franchise (its manifest.json: the
same HTML, stylesheets inlined), an unchanged rebuild, a cold default build, the largest process's peak resident
memory, and file sizes. The engine comparison reads nothing of the generator's internals: only the manifest. The
quality gate's share of a document's CPU is the one figure taken from inside (its calls timed in the workers). Each
figure is the median of R rounds (each round runs every command once, in turn). A 40-clinic round takes about
10 minutes on 2 cores.

    .venv/bin/python benchmarks/bench.py --engine weasyprint|chromium MANIFEST

prints every document of a manifest written by `generate.py html` with that engine alone, in one process: bare
WeasyPrint (`HTML(filename=…).render()` then `write_pdf()`, one FontConfiguration), or one Chromium driven by
Playwright (Debian's /usr/bin/chromium) through one reused page, `page.set_content(html)` then `page.pdf(…)`. A
booklet is its own HTML (cover and contents) and its parts: WeasyPrint lays them out and binds them with
`Document.copy`; Chromium prints each to a PDF of its own (the binding is not counted for it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT / "data"
GENERATE = ROOT / "generate.py"


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
    parser.add_argument("--repeat", type=int, help="runs of each measure (default: 3; 1 with --goals)")
    parser.add_argument("--memory", action="store_true", help="measure worker memory over one long batch instead")
    parser.add_argument("--goals", action="store_true", help="measure issue 23's goals, each with PASS or FAIL")
    parser.add_argument("--engine", choices=["weasyprint", "chromium"],
                        help="print every document of MANIFEST (written by `generate.py html`) with this engine alone")
    parser.add_argument("manifest", nargs="?", type=Path, help="with --engine: the manifest.json to print")
    parser.add_argument("--gate-share", nargs=2, type=Path, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        if not args.manifest:
            parser.error("--engine needs the manifest.json that `generate.py html` writes")
        return print_manifest(args.engine, args.manifest)
    if args.gate_share:
        return gate_share(*args.gate_share)
    if args.memory:
        return memory_benchmark(args.clinics)
    if args.goals:
        return goals_benchmark(args.clinics, args.repeat or 1)
    return internal_benchmark(args.clinics, args.repeat or 3)


def internal_benchmark(clinic_count: int, repeat: int) -> int:
    """Where the time goes inside the generator: its own parts, called directly."""
    from brochures.load.clinic import find_clinic_file, load_clinic
    from brochures.load.content import load_content
    from brochures.pdf.inspection import inspect_pdf
    from brochures.pdf.printer import Printer
    from brochures.plan.documents import plan_documents
    from brochures.render.html import HtmlRenderer
    from generate import main

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = franchise(folder, clinic_count)
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
        print(f"{len(documents)} documents for {len(clinics)} clinics, best of {repeat} runs")

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

        shared = best_of(repeat, shared_printer)
        inspecting = best_of(repeat, inspect_only)
        separate = best_of(repeat, printer_per_document)
        rendering = best_of(repeat, render_only)

        out = folder / "out"
        command = ["--data", str(data), "--out", str(out)]

        def cold():
            shutil.rmtree(out, ignore_errors=True)
            main(command)

        cold_build = best_of(repeat, quiet(cold))
        quiet(lambda: main(command))()
        warm_build = best_of(repeat, quiet(lambda: main(command)))

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
    from brochures.building.tasks import RENDER, Budget, Task, print_tasks
    from brochures.building.workers import Workers
    from brochures.load.clinic import find_clinic_file, load_clinic
    from brochures.load.content import load_content
    from brochures.plan.documents import plan_documents

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


# The quality gate's entry points, as the printer calls them: opening the finished PDF, its read-back and its
# inspection, and the layout rules checked on the laid-out pages (those the printer has; the figure names the ones it
# timed); and the claims looked for in the printed words, which the workers give the printer.
GATE = ("open_pdf", "check_pdf", "inspect_pages", "layout_warnings")
WORKER_GATE = ("claims_on_pages",)


def varied_franchise(folder: Path, clinics: int) -> Path:
    """Like `franchise`, with varied names and page sizes too (A4, Letter, A5 in turn)."""
    data = franchise(folder, clinics)
    sizes = ["A4", "Letter", "A5"]
    for number, config in enumerate(sorted((data / "clinics").glob("*/clinic.yaml"))):
        text = config.read_text().replace("page_size: A4", f"page_size: {sizes[number % 3]}")
        config.write_text(text.replace("name: Clinic", "name: Skin and Hair Clinic" if number % 2 else "name: Clinic"))
    return data


def print_manifest(engine: str, manifest_file: Path) -> int:
    """--engine: every document of the manifest printed by one engine, in this process, into a folder beside it."""
    root = manifest_file.resolve().parent
    documents = json.loads(manifest_file.read_text(encoding="utf-8"))["documents"]
    out = Path(tempfile.mkdtemp(prefix=f"{engine}-", dir=root))
    try:
        if engine == "weasyprint":
            weasyprint_loop(root, documents, out)
        else:
            chromium_loop(root, documents, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


def weasyprint_loop(root: Path, documents: list[dict], out: Path) -> None:
    """What a user would write with WeasyPrint alone: each HTML file laid out and written, one FontConfiguration for
    the batch. A booklet's parts are laid out again and bound after its cover and contents with Document.copy."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    for number, document in enumerate(documents):
        options = document["pdf_options"]

        def lay_out(path: str, options=options):
            return HTML(filename=str(root / path)).render(font_config=fonts, **options)

        laid_out = lay_out(document["html"])
        if parts := document.get("parts"):
            bound = [laid_out, *(lay_out(part["html"]) for part in parts)]
            laid_out = laid_out.copy([page for one in bound for page in one.pages])
        laid_out.write_pdf(out / f"{number}.pdf", **options)


def chromium_loop(root: Path, documents: list[dict], out: Path) -> None:
    """What a user would write with Chromium: one browser, one page reused for every document, `set_content` then
    `pdf`. The page first opens one of the files, so that the documents may load their fonts and logos (file: URLs):
    from about:blank Chromium refuses them, and would print without them."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto((root / documents[0]["html"]).as_uri())
        number = 0
        for document in documents:
            # A booklet: its own HTML, then its parts', each printed to a PDF of its own.
            for one in [document, *document.get("parts", ())]:
                page.set_content((root / one["html"]).read_text(encoding="utf-8"))
                # Its fonts loaded before it is printed.
                page.evaluate("document.fonts.ready.then(() => 0)")
                if number == 0:
                    missing = page.evaluate(
                        "[...[...document.fonts].filter(f => f.status === 'error').map(f => f.family),"
                        " ...[...document.images].filter(i => !i.naturalWidth).map(i => i.src)]"
                    )
                    if missing:
                        print(f"  (Chromium could not load {', '.join(missing)}: the comparison is not fair)",
                              file=sys.stderr)
                page.pdf(
                    path=str(out / f"{number}.pdf"),
                    format=one["page_size"],
                    landscape=one["landscape"],
                    print_background=True,
                    prefer_css_page_size=True,
                    tagged=True,
                    outline=True,
                )
                number += 1
        browser.close()


def gate_share(data: Path, out: Path) -> int:
    """--gate-share (for --goals): one default build in this process, with the gate's calls timed in its workers
    (which inherit the timing, being forked from it). Prints the CPU of the workers and of the gate, as JSON."""
    from brochures.building import workers
    from brochures.pdf import printer

    log = out.with_name(out.name + ".gate")
    timed = [name for name in GATE if hasattr(printer, name)]
    timed_in_workers = [name for name in WORKER_GATE if hasattr(workers, name)]

    def timing(function):
        def call(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                with open(log, "a") as file:
                    file.write(f"{time.process_time() - started}\n")

        return call

    for name in timed:
        setattr(printer, name, timing(getattr(printer, name)))
    for name in timed_in_workers:
        setattr(workers, name, timing(getattr(workers, name)))
    timed += timed_in_workers
    from generate import main

    with contextlib.redirect_stdout(io.StringIO()):
        main(["--data", str(data), "--out", str(out)])
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    gate = sum(float(line) for line in log.read_text().split()) if log.exists() else 0.0
    print(json.dumps({"workers_cpu": children.ru_utime + children.ru_stime, "gate_cpu": gate, "timed": timed}))
    return 0


def run(command: list, out: Path | None = None) -> dict:
    """One whole command as a user runs it, with a fresh `out` folder: its wall and CPU seconds, and the peak resident
    memory of the largest process it waited for (itself or a worker), in MiB."""
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen([str(part) for part in command], stdout=output, stderr=errors)
        # Reaped here, with its own figures (and those of the processes it waited for), not the sum of every child.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        errors.seek(0)
        return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024,
                "code": process.returncode, "stdout": output.read().decode(errors="replace"),
                "stderr": errors.read().decode(errors="replace")}


def generate(*args) -> list:
    return [sys.executable, GENERATE, *args]


def verdict(value: float, goal: float, higher_is_better: bool) -> str:
    return "PASS" if (value >= goal if higher_is_better else value <= goal) else "FAIL"


def goals_benchmark(clinic_count: int, repeat: int) -> int:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = varied_franchise(folder, clinic_count)
        html = folder / "html"
        exported = run(generate("html", "--data", data, "--out", html))
        if exported["code"] != 0:
            print(f"generate.py html failed:\n{exported['stderr']}", file=sys.stderr)
            return 1
        manifest = html / "manifest.json"
        documents = json.loads(manifest.read_text(encoding="utf-8"))["documents"]
        print(f"{len(documents)} documents for {clinic_count} clinics (A4, Letter and A5; brochures, comparison, "
              f"booklet), {repeat} round{'s' if repeat != 1 else ''}")
        chromium = CHROMIUM.exists()
        if not chromium:
            print(f"  (Chromium comparison skipped: no {CHROMIUM}; install Debian's chromium, as scripts/setup.sh "
                  "does)")
        rounds = []
        for _ in range(repeat):
            figures = {
                "jobs 2": run(generate("--data", data, "--out", folder / "out-2", "--jobs", "2"), folder / "out-2"),
                "jobs 1": run(generate("--data", data, "--out", folder / "out-1", "--jobs", "1"), folder / "out-1"),
                "bare WeasyPrint": run([sys.executable, __file__, "--engine", "weasyprint", manifest]),
            }
            if chromium:
                figures["Chromium loop"] = run([sys.executable, __file__, "--engine", "chromium", manifest])
            figures["rebuild, all"] = run(generate("--data", data, "--out", folder / "out-2", "--jobs", "2"))
            example = folder / "out-example"
            figures["cold default"] = run(generate("--out", example), example)
            figures["rebuild, one"] = run(generate("--out", example))
            rounds.append(figures)
        failed = [f"{name}: exit {figure['code']}\n{figure['stderr'][-2000:]}" for figures in rounds
                  for name, figure in figures.items() if figure["code"] != 0]
        gate = json.loads(run([sys.executable, __file__, "--gate-share", data, folder / "out-gate"])["stdout"])
        sizes = {pdf: pdf.stat().st_size / 1024 for pdf in (folder / "out-2").rglob("*.pdf")}
        brochure_kb = max(kb for pdf, kb in sizes.items() if pdf.name not in ("comparison.pdf", "booklet.pdf"))
        booklet_kb = max(kb for pdf, kb in sizes.items() if pdf.name == "booklet.pdf")

    def median(name: str, measure: str = "wall") -> float:
        return statistics.median(figures[name][measure] for figures in rounds)

    def ratio(a: str, b: str) -> float:
        """The median of each round's ratio: a round's commands ran in turn, on the same machine."""
        return statistics.median(figures[a]["wall"] / figures[b]["wall"] for figures in rounds)

    for name in rounds[0]:
        print(f"  {name:28} {median(name):7.2f} s wall, {median(name, 'cpu'):7.2f} s CPU, "
              f"largest process {median(name, 'peak'):4.0f} MiB")
    print(f"  {'generate.py html':28} {exported['wall']:7.2f} s wall (once, to write the HTML the engines print)")
    print(f"  quality gate: {gate['gate_cpu']:.1f} s of the workers' {gate['workers_cpu']:.1f} s CPU "
          f"({gate['workers_cpu'] / len(documents) * 1000:.0f} ms per document; timed: {', '.join(gate['timed'])})")
    rows = []
    if chromium:
        rows.append(("Chromium loop / generator (--jobs 2)", ratio("Chromium loop", "jobs 2"), "≥", 0.6, "x"))
    rows += [
        ("quality gate / a document's CPU", gate["gate_cpu"] / gate["workers_cpu"] * 100, "≤", 10, "%"),
        ("generator with gate / bare WeasyPrint", ratio("jobs 1", "bare WeasyPrint"), "≤", 1.15, "x"),
        ("--jobs 2 speed / --jobs 1 speed", ratio("jobs 1", "jobs 2"), "≥", 1.8, "x"),
        ("first unchanged rebuild, one clinic (s)", median("rebuild, one"), "≤", 0.5, ""),
        (f"first unchanged rebuild, {clinic_count} clinics (s)", median("rebuild, all"), "≤",
         2.0 if clinic_count >= 40 else 0.5 * clinic_count, ""),
        ("cold default build (s)", median("cold default"), "≤", 2.5, ""),
        ("peak resident, largest process (MiB)", median("jobs 2", "peak"), "≤", 150, ""),
        ("largest standard brochure (KB)", brochure_kb, "≤", 100, ""),
        ("largest booklet (KB)", booklet_kb, "≤", 250, ""),
    ]
    print("Goals (measured side by side in this run; ratios of whole commands' wall time, medians of the rounds):")
    for name, value, sign, goal, unit in rows:
        print(f"  {name:42} {value:7.2f}{unit:1}  goal {sign} {goal:g}{unit:1}   {verdict(value, goal, sign == '≥')}")
    print("  (the largest process of a --jobs 2 build is a worker; per worker over a long batch: --memory)")
    if failed:
        print("Some commands failed:\n" + "\n".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main_benchmark())
