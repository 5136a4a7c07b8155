"""Builds a batch of documents in worker processes, each document within a time and memory budget.

A worker loads fonts and parses stylesheets once and then builds document after
document. A document that runs over its time budget has its worker killed and
replaced; one that runs out of memory fails inside its worker. Either way that
document is reported as failed and the rest of the batch goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from .build_cache import BuildCache
from .loading import Content
from .planning import Document
from .printing import Printed, Printer, PrintError
from .rendering import HtmlRenderer, RenderError


@dataclass(frozen=True)
class Budget:
    """What one document may use. The defaults are far above what a brochure needs (under 1 s, about 100 MB)."""

    seconds: float = 60.0
    memory_mb: int = 1024  # on top of what a worker uses before it starts printing


@dataclass
class Outcome:
    """What happened to one document: printed (or unchanged), or failed with a reason."""

    document: Document
    printed: Printed | None = None
    error: str | None = None
    cache_entry: dict | None = None


def build_all(documents: list[Document], content: Content, cache: BuildCache, *, jobs: int, budget: Budget,
              fail_fast: bool = False, report=lambda outcome: None) -> list[Outcome]:
    """Build every document; `report` is called with each outcome as it arrives."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    queue = deque(range(len(documents)))
    outcomes: dict[int, Outcome] = {}
    workers: list[_Worker] = []

    def finish(index: int, outcome: Outcome) -> None:
        outcomes[index] = outcome
        if outcome.cache_entry:
            cache.entries[str(outcome.document.output)] = outcome.cache_entry
        report(outcome)

    try:
        for _ in range(max(1, min(jobs, len(documents)))):
            workers.append(_Worker(context, content, cache, budget))
        while queue or any(w.job is not None for w in workers):
            if fail_fast and any(o.error for o in outcomes.values()):
                break
            for worker in workers:
                if worker.job is None and queue:
                    worker.start(queue.popleft(), documents)
            busy = [w for w in workers if w.job is not None]
            deadline = min(w.deadline for w in busy)
            ready = wait([w.connection for w in busy], timeout=max(0.0, deadline - time.monotonic()))
            for worker in busy:
                if worker.connection in ready:
                    index, outcome = worker.receive(documents)
                elif time.monotonic() >= worker.deadline:
                    index = worker.job
                    outcome = Outcome(documents[index], error=f"took longer than its time budget of {budget.seconds:g} s, so it was stopped")
                    worker.kill()
                else:
                    continue
                if not worker.alive:
                    workers[workers.index(worker)] = _Worker(context, content, cache, budget)
                finish(index, outcome)
    finally:
        for worker in workers:
            worker.stop()
    return [outcomes[i] for i in sorted(outcomes)]


class _Worker:
    """One worker process and the document it is building."""

    def __init__(self, context, content: Content, cache: BuildCache, budget: Budget):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_work, daemon=True,
                                       args=(child, os.getpid(), content, cache.path.parent, cache.force, budget.memory_mb))
        self.process.start()
        child.close()
        self.budget = budget
        self.job: int | None = None
        self.deadline = 0.0

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def start(self, index: int, documents: list[Document]) -> None:
        self.job, self.deadline = index, time.monotonic() + self.budget.seconds
        self.connection.send(documents[index])

    def receive(self, documents: list[Document]) -> tuple[int, Outcome]:
        index, self.job = self.job, None
        try:
            outcome: Outcome = self.connection.recv()
        except (EOFError, OSError):
            self.kill()
            code = self.process.exitcode
            reason = "it ran out of memory" if code in (-signal.SIGKILL, -getattr(signal, "SIGSEGV", 11)) else f"exit code {code}"
            return index, Outcome(documents[index], error=f"the worker printing it stopped unexpectedly ({reason})")
        return index, outcome

    def kill(self) -> None:
        self.job = None
        if self.process.is_alive():
            self.process.kill()
        self.process.join()

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.connection.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(timeout=5)
        self.kill()
        self.connection.close()


def _work(connection: Connection, parent: int, content: Content, out_dir: Path, force: bool, memory_mb: int) -> None:
    """A worker: build each document it is sent, until it is sent None or its parent goes away."""
    _die_with_parent(parent)
    renderer = HtmlRenderer(content)
    printer = Printer(BuildCache(out_dir, force=force))
    _limit_memory(memory_mb)
    while True:
        try:
            document = connection.recv()
        except (EOFError, OSError):
            return
        if document is None:
            return
        connection.send(_build_one(renderer, printer, document))


def _build_one(renderer: HtmlRenderer, printer: Printer, document: Document) -> Outcome:
    try:
        printed = printer.build(document, renderer.render(document))
    except (RenderError, PrintError) as error:
        return Outcome(document, error=str(error))
    except MemoryError:
        return Outcome(document, error="it needed more memory than its budget allows")
    except Exception as error:  # a bug: report it with where it happened, and keep building the rest
        traceback.print_exc(file=sys.stderr)
        return Outcome(document, error=f"internal error (a bug, please report it): {error!r}")
    return Outcome(document, printed=printed, cache_entry=printer.cache.entries.get(str(document.output)))


def _limit_memory(extra_mb: int) -> None:
    """Cap this worker's address space at what it uses now plus `extra_mb`."""
    try:
        import resource

        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        limit = used + extra_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, OSError, ValueError, StopIteration):
        pass  # no /proc or no setrlimit (macOS, Windows): the time budget still applies


def _die_with_parent(parent: int) -> None:
    """On Linux, end this worker if the build that started it is killed."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(0)
