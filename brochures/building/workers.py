"""Runs a batch of tasks (render a document's HTML, or print it) in worker processes, each within its budget.

A worker loads fonts and parses stylesheets once and then takes task after task.
Each task has its own time budget, counted from when the task reaches a ready
worker, and its own memory budget, counted from what the worker uses when the
task starts. A task over its time budget has its worker killed and replaced; one
that runs out of memory fails inside its worker. Either way that document is
reported as failed and the rest of the batch goes on. A worker that has grown
(caches, fragmentation) or has done many tasks is replaced by a fresh one, so
memory stays flat over a batch of any length.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from pathlib import Path

from brochures.building.tasks import RENDER, Budget, Outcome, Task, do_task, packed, unpacked
from brochures.load.loaded import Content
from brochures.pdf.printer import Printer
from brochures.pdf.shared import Shared
from brochures.quality.claims import claims_on_pages
from brochures.render.html import HtmlRenderer

READY = "ready"


# A worker that cannot even start (imports, fonts) in this time is broken.
STARTUP_SECONDS = 120.0


RECYCLE_AFTER_TASKS = 40


# A warm worker's garbage collector runs less often while it lays a document out (the default is every 700 new
# objects, and a layout makes millions), and collects once after each document instead, while the build hands out
# the next, so that a document's boxes go at once. In one process that had frozen nothing this saves about 7% of the
# CPU; a worker already leaves the build's objects, frozen before the fork, out of its collections, and saves about
# 1%, for about 3 MiB more at its peak.
WARM_GC_THRESHOLDS = (50_000, 20, 100)


# Modules the libraries load only when they first print or read a PDF: loaded once in the build, before it forks its
# workers, rather than again in every worker (a worker is replaced after 40 documents).
LOADED_WHEN_PRINTING = ("fontTools.agl", "email.policy", "encodings.unicode_escape")


# Growth of a worker's resident memory since it started. Its first clinic takes it about 55 MB up (fonts, glyphs,
# caches), where it then stays; past the limit it is replaced after its clinic, past twice the limit at once.
RECYCLE_ABOVE_MB = 100


class Workers:
    """A pool of worker processes, kept for the whole build (both the render and the print phase)."""

    def __init__(self, content: Content, *, jobs: int, budget: Budget, temp_dir: Path, perform=None):
        self.context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        self.content, self.jobs, self.budget, self.temp_dir = content, max(1, jobs), budget, temp_dir
        for module in LOADED_WHEN_PRINTING:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
        # What a worker does with a task (tests give tasks of known weight)
        self.perform = perform or do_task
        self.workers: list[_Worker] = []
        self._failed_starts = 0

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.workers:
            worker.stop(graceful=exc[0] is None)
        self.workers = []

    def _spawn(self) -> _Worker:
        return _Worker(self.context, self.content, self.budget, self.temp_dir, self.perform)

    def run(
        self, tasks: list[Task], *, fail_fast: bool = False, report=lambda outcome: None, skip=lambda task: False
    ) -> list[Outcome]:
        """Run every task; `report` is called with each outcome as it arrives. Outcomes come back in task order.

        A task for which `skip(task)` is true when its turn comes is not run and has no outcome (a clinic
        already found invalid). Stops early (leaving the remaining tasks without an outcome) at a machine
        fault, or at any failure with `fail_fast`. Each task in `tasks` is replaced by one without its HTML once it
        has been sent.
        """
        queue = _Queue(tasks, skip)
        outcomes: dict[int, Outcome] = {}
        while len(self.workers) < min(self.jobs, len(tasks)):
            self.workers.append(self._spawn())

        while queue or any(w.task is not None for w in self.workers):
            if any(o.machine_fault or (fail_fast and (o.error or o.problem)) for o in outcomes.values()):
                queue.clear()
                if not any(w.task is not None for w in self.workers):
                    break
            for worker in self.workers:
                if worker.ready and worker.task is None and queue:
                    index = queue.take(worker.group, {w.group for w in self.workers if w is not worker})
                    if index is not None:
                        worker.group = tasks[index].group
                        worker.start(
                            index, tasks, last_of_group=not tasks[index].group or not queue.pending(worker.group)
                        )
                        # The worker has the HTML now. Kept, every document's HTML would stay in this process to
                        # the end of the batch, and in every worker forked from it later.
                        tasks[index] = replace(tasks[index], html="", parts=())
            waiting = [w for w in self.workers if not w.ready or w.task is not None]
            if not waiting:
                break
            deadline = min(w.deadline for w in waiting)
            arrived = wait([w.connection for w in waiting], timeout=max(0.0, deadline - time.monotonic()))
            for worker in waiting:
                if worker.connection in arrived:
                    result = worker.receive(tasks)
                elif time.monotonic() >= worker.deadline:
                    result = worker.time_out(tasks)
                else:
                    continue
                if result is not None:
                    index, outcome = result
                    outcome.task = tasks[index].kind
                    # The worker sends back its own copy of the document (and of its clinic): keep the one this
                    # process already has, so that the build does not hold a copy of a clinic for every document.
                    outcome.document = tasks[index].document
                    if outcome.printed is not None:
                        outcome.printed.document = tasks[index].document
                    outcomes[index] = outcome
                    report(outcome)
                if not worker.alive:
                    self._replace(worker)
        return [outcomes[i] for i in sorted(outcomes)]

    def _replace(self, worker: _Worker) -> None:
        worker.stop(graceful=False)
        if not worker.started_once:
            self._failed_starts += 1
            if self._failed_starts >= 3:
                raise RuntimeError(
                    "could not start a worker process to print with (it stopped three times before it was ready)"
                )
        self.workers[self.workers.index(worker)] = self._spawn()


class _Queue:
    """The tasks still to start, by group, each group in task order. A worker keeps to its group (a clinic: its
    booklet binds the leaflets that worker has just laid out), then takes a group no other worker is on, and only
    then helps with another's, so that no worker waits while tasks remain."""

    def __init__(self, tasks: list[Task], skip):
        self.tasks, self.skip = tasks, skip
        self.groups: dict[str, deque[int]] = {}
        for index, task in enumerate(tasks):
            self.groups.setdefault(task.group, deque()).append(index)

    def __bool__(self) -> bool:
        return any(self.pending(group) for group in list(self.groups))

    def clear(self) -> None:
        self.groups.clear()

    def pending(self, group: str) -> bool:
        """Whether the group has a task left to run (tasks to skip are dropped on the way), forgetting it if not."""
        waiting = self.groups.get(group)
        while waiting and self.skip(self.tasks[waiting[0]]):
            waiting.popleft()
        if not waiting:
            self.groups.pop(group, None)
            return False
        return True

    def take(self, group: str | None, others: set) -> int | None:
        if group is not None and self.pending(group):
            return self.groups[group].popleft()
        for name in list(self.groups):
            if name not in others and self.pending(name):
                return self.groups[name].popleft()
        for name in list(self.groups):
            if self.pending(name):
                return self.groups[name].popleft()
        return None


class _Worker:
    """One worker process and the task it is doing."""

    def __init__(self, context, content: Content, budget: Budget, temp_dir: Path, perform):
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_work, daemon=True, args=(child, os.getpid(), content, budget.memory_mb, str(temp_dir), perform)
        )
        # What the build holds when the worker is forked is shared with it, page by page, until either writes to
        # a page. The worker's garbage collector would visit (and so copy) every one of those objects: frozen,
        # they are left out of its collections, and stay shared.
        gc.freeze()
        try:
            self.process.start()
        finally:
            gc.unfreeze()
        child.close()
        self.budget = budget
        self.ready = False
        self.started_once = False
        self.task: int | None = None
        # The group of its last task.
        self.group: str | None = None
        self.deadline = time.monotonic() + STARTUP_SECONDS

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def start(self, index: int, tasks: list[Task], last_of_group: bool = True) -> None:
        """Send it a task. `last_of_group`: no task of the same group is waiting, so the worker may be replaced
        after it (a worker that has grown or done many tasks is replaced between clinics, not in the middle of one,
        where it would lose the leaflets its booklet binds)."""
        self.task, self.deadline = index, time.monotonic() + self.budget.seconds
        self.connection.send((tasks[index], last_of_group))

    def receive(self, tasks: list[Task]) -> tuple[int, Outcome] | None:
        try:
            message = self.connection.recv()
        except (EOFError, OSError):
            return self._died(tasks)
        if message == READY:
            self.ready = self.started_once = True
            return None
        outcome, retire = message
        index, self.task = self.task, None
        # It has grown or done many tasks: let it end, and start a fresh one.
        if retire:
            self.stop(graceful=True)
        return index, outcome

    def time_out(self, tasks: list[Task]) -> tuple[int, Outcome] | None:
        index = self.task
        self.kill()
        # Still starting up.
        if index is None:
            return None
        return index, Outcome(
            tasks[index].document,
            error=f"took longer than its time budget of {self.budget.seconds:g} s, so it was stopped",
        )

    def _died(self, tasks: list[Task]) -> tuple[int, Outcome] | None:
        index = self.task
        self.kill()
        if index is None:
            return None
        code = self.process.exitcode
        # Native code that cannot allocate within the budget ends the process rather than raise: cairo
        # crashes (SEGV, BUS), GLib's g_malloc aborts or traps (ABRT, TRAP).
        if code in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGTRAP):
            error = "it needed more memory than its budget allows (the worker printing it stopped)"
        elif code is not None and code < 0:
            error = f"the worker printing it was stopped by {signal.Signals(-code).name}" + (
                " (the system may have run out of memory)" if code == -signal.SIGKILL else ""
            )
        else:
            error = f"the worker printing it stopped unexpectedly (exit code {code})"
        return index, Outcome(tasks[index].document, error=error)

    def kill(self) -> None:
        self.task = None
        if self.process.is_alive():
            self.process.kill()
        self.process.join()

    def stop(self, graceful: bool) -> None:
        if graceful and self.process.is_alive():
            try:
                self.connection.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(timeout=5)
        self.kill()
        self.connection.close()


def _work(connection: Connection, parent: int, content: Content, memory_mb: int, temp_dir: str, perform) -> None:
    """A worker: do each task it is sent, until it is sent None, it has grown too much, or its parent goes away."""
    _die_with_parent(parent)
    # Ctrl-C is the parent's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Not the parent's clean-stop handler: a worker just ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # WeasyPrint's temporary font folders go here, and the build removes it.
    tempfile.tempdir = temp_dir
    _large_blocks_apart()
    renderer = HtmlRenderer(content)
    # The build's workers share the layouts they chose and the pages they checked (pdf/shared.py).
    printer = Printer(Shared(Path(temp_dir) / "shared"), claims_on_pages=claims_on_pages)
    # What it holds now lives as long as it does: left out of every collection, as the build's own objects are.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WARM_GC_THRESHOLDS)
    started_with = _resident_mb()
    connection.send(READY)
    done = 0
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task, last_of_group = message
        _limit_memory(memory_mb)
        outcome = perform(renderer, printer, unpacked(task))
        if task.kind == RENDER:
            outcome = packed(outcome)
        done += 1
        # The build has the document, and its clinic, already (Workers.run puts them back): sent without them, a
        # copy of the clinic is not pickled here and unpickled there, only to be thrown away, for every document.
        outcome.document = None
        if outcome.printed is not None:
            outcome.printed.document = None
        # Its own memory (about 1 ms to read) only after a print, where a worker grows: `bench.py --memory` reads it.
        outcome.worker = (os.getpid(), _resident_mb(), _private_mb() if outcome.printed is not None else 0.0)
        grown = outcome.worker[1] - started_with
        retire = (
            last_of_group and (done >= RECYCLE_AFTER_TASKS or grown > RECYCLE_ABOVE_MB)
        ) or grown > 2 * RECYCLE_ABOVE_MB
        connection.send((outcome, retire))
        if retire:
            return
        gc.collect()


# What malloc takes straight from the system, and gives back as soon as it is freed (glibc's M_MMAP_THRESHOLD).
LARGE_BLOCK_BYTES = 256 * 1024


def _large_blocks_apart() -> None:
    """Large blocks (the pages the quality gate renders, some megabytes each) taken apart from the heap and given back
    when freed. By default glibc raises this threshold to the size of the largest block freed so far, so that a
    rendered page then comes from the heap, stays there once freed, and small objects settle in the space between:
    the next one no longer fits there, and the heap grows. About 6 MB less at a worker's peak, for about 2% more CPU
    (the system hands out fresh pages for each such block)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            # M_MMAP_THRESHOLD; setting it also stops glibc from moving it.
            ctypes.CDLL(None).mallopt(-3, LARGE_BLOCK_BYTES)


def _resident_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return 0.0


def _private_mb() -> float:
    """This worker's own memory: resident pages no other process shares (a forked worker shares the pages of the
    modules its parent had already imported, which its resident size counts too)."""
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            return (
                sum(int(line.split()[1]) for line in rollup if line.startswith(("Private_Clean:", "Private_Dirty:")))
                / 1024
            )
    except (OSError, ValueError):
        return 0.0


def _limit_memory(extra_mb: int) -> None:
    """Cap this worker's address space at what it uses now plus `extra_mb`: a budget for the task about to start."""
    try:
        import resource

        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        limit = used + extra_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, OSError, ValueError, StopIteration):
        # No /proc or no setrlimit (macOS, Windows): the time budget still applies.
        pass


def _die_with_parent(parent: int) -> None:
    """On Linux, end this worker if the build that started it is killed."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            # PR_SET_PDEATHSIG.
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
        except OSError:
            pass
    # The parent died before the request above took effect.
    if os.getppid() != parent:
        os._exit(0)
