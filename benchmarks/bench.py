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
reports each worker's resident memory in the first and the last tenth of the batch:
a ratio near 1.0 means memory stays flat however long the batch.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brochures import DATA_DIR  # noqa: E402
from brochures.batch import PRINT, RENDER, Budget, Task, Workers  # noqa: E402
from brochures.loading import find_clinic_file, load_clinic, load_content  # noqa: E402
from brochures.planning import plan_documents  # noqa: E402
from brochures.inspection import inspect_pdf  # noqa: E402
from brochures.printing import Printer  # noqa: E402
from brochures.rendering import HtmlRenderer  # noqa: E402
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
        config.write_text(config.read_text().replace('"#0F6E6E"', colour).replace("Example Aesthetics", f"Clinic {number:02d}"))
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
    args = parser.parse_args(argv)
    if args.memory:
        return memory_benchmark(args.clinics)

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = franchise(folder, args.clinics)
        content = load_content(data)
        clinics = [load_clinic(find_clinic_file(slug, data), content) for slug in sorted(p.name for p in (data / "clinics").iterdir())]
        documents = plan_documents(clinics, content, folder / "out-bench")
        renderer = HtmlRenderer(content)
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
    """Worker memory at the start and at the end of one long batch, printed the way a real build prints."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = franchise(folder, clinic_count)
        content = load_content(data)
        clinics = [load_clinic(find_clinic_file(slug, data), content) for slug in sorted(p.name for p in (data / "clinics").iterdir())]
        documents = plan_documents(clinics, content, folder / "out")
        started = time.perf_counter()
        with Workers(content, jobs=2, budget=Budget(), temp_dir=folder) as workers:
            rendered = workers.run([Task(RENDER, document) for document in documents])
            printed = workers.run([Task(PRINT, o.document, o.html) for o in rendered])
        seconds = time.perf_counter() - started
    failed = [o for o in printed if o.error]
    tenth = max(1, len(printed) // 10)
    first = max(o.worker[1] for o in printed[:tenth])
    last = max(o.worker[1] for o in printed[-tenth:])
    workers_used = len({o.worker[0] for o in printed})
    print(f"{len(printed)} documents for {len(clinics)} clinics in {seconds:.0f} s, {len(failed)} failed, "
          f"{workers_used} worker processes used in turn")
    print(f"  worker memory, first tenth of the batch   {first:6.0f} MB (peak)")
    print(f"  worker memory, last tenth of the batch    {last:6.0f} MB (peak)")
    print(f"  worker memory, whole batch                {max(o.worker[1] for o in printed):6.0f} MB (peak)")
    print("Ratio:")
    print(f"  last tenth / first tenth                  {last / first:5.2f}x  (1.0 = flat)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_benchmark())
