"""Budgets that hold for every document, however long the batch: real worker processes, tasks of known weight."""

from __future__ import annotations

import os
import signal
import time

import pytest

from brochures.building import tasks
from brochures.building import workers as batch
from brochures.building.tasks import Budget, Outcome, Task
from brochures.building.workers import Workers
from brochures.load.clinic import find_clinic_file, load_clinic
from brochures.load.content import load_content
from brochures.plan.documents import plan_documents
from conftest import DATA

MB = 1024 * 1024
# What a "leaky" task keeps, in the worker that ran it.
_held: list[bytearray] = []


def weighed(renderer, printer, task: Task) -> Outcome:
    """A task that does what its text says: hold N MB for good, use N MB for a moment, or sleep N seconds."""
    action, amount = task.html.split(":")
    try:
        if action == "hold":
            _held.append(bytearray(int(amount) * MB))
        elif action == "use":
            bytearray(int(amount) * MB)
        elif action == "sleep":
            time.sleep(float(amount))
    except MemoryError:
        return Outcome(task.document, error="over its memory budget")
    return Outcome(task.document, html="done")


@pytest.fixture(scope="module")
def document():
    content = load_content(DATA)
    clinic = load_clinic(find_clinic_file("example", DATA), content)
    return plan_documents([clinic], content, DATA.parent / "out", {"facial"})[0]


def run(document, texts: list[str], tmp_path, **budget) -> list[Outcome]:
    with Workers(None, jobs=1, budget=Budget(**budget), temp_dir=tmp_path, perform=weighed) as workers:
        return workers.run([Task("test", document, text) for text in texts])


def test_the_memory_budget_holds_for_each_document_in_a_worker_that_has_grown(document, tmp_path, monkeypatch):
    # Keep the grown worker, to see its budget.
    monkeypatch.setattr(batch, "RECYCLE_ABOVE_MB", 10_000)
    outcomes = run(document, ["hold:150", "hold:150", "use:200", "use:400"], tmp_path, memory_mb=300)
    assert len({o.worker[0] for o in outcomes}) == 1, "the test needs one worker that has grown"
    # 300 MB more than the worker holds when each document starts: 200 fits even after 300 were kept, 400 never does.
    assert [o.error for o in outcomes] == [None, None, None, "over its memory budget"]


def test_a_worker_that_grows_is_replaced_so_memory_stays_flat(document, tmp_path):
    outcomes = run(document, ["hold:40"] * 15, tmp_path)
    assert all(o.error is None for o in outcomes)
    workers = [o.worker[0] for o in outcomes]
    assert len(set(workers)) >= 2, "no worker was replaced"
    start = outcomes[0].worker[1]
    assert max(o.worker[1] for o in outcomes) < start + batch.RECYCLE_ABOVE_MB + 40 + 20
    assert outcomes[-1].worker[1] < start + batch.RECYCLE_ABOVE_MB


def test_a_worker_is_replaced_after_many_documents(document, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "RECYCLE_AFTER_TASKS", 3)
    outcomes = run(document, ["use:1"] * 10, tmp_path)
    assert all(o.error is None for o in outcomes)
    assert len({o.worker[0] for o in outcomes}) == 4


def test_a_grown_worker_is_replaced_between_clinics_not_in_the_middle_of_one(document, tmp_path, monkeypatch):
    """A clinic's booklet binds the leaflets its worker laid out: a worker past its growth limit finishes its clinic
    first (up to twice the limit), then a fresh one takes the next clinic."""
    monkeypatch.setattr(batch, "RECYCLE_ABOVE_MB", 50)
    tasks = [Task("test", document, "hold:30", group="clinic-a") for _ in range(3)] + [
        Task("test", document, "use:1", group="clinic-b")
    ]
    with Workers(None, jobs=1, budget=Budget(), temp_dir=tmp_path, perform=weighed) as workers:
        outcomes = workers.run(tasks)
    workers_used = [o.worker[0] for o in outcomes]
    assert workers_used[0] == workers_used[1] == workers_used[2] != workers_used[3]
    # without groups, the same worker is replaced as soon as it has grown past the limit
    ungrouped = run(document, ["hold:30"] * 3 + ["use:1"], tmp_path)
    assert len({o.worker[0] for o in ungrouped[:2]}) == 1 and ungrouped[1].worker[0] != ungrouped[2].worker[0]


def test_each_worker_keeps_to_one_clinic_while_others_have_work(document, tmp_path):
    tasks = [Task("test", document, "sleep:0.2", group=f"clinic-{n}") for n in range(4) for _ in range(3)]
    with Workers(None, jobs=2, budget=Budget(), temp_dir=tmp_path, perform=weighed) as workers:
        outcomes = workers.run(tasks)
    by_clinic = {}
    for task, outcome in zip(tasks, outcomes):
        by_clinic.setdefault(task.group, set()).add(outcome.worker[0])
    # the first two clinics are each printed by one worker (the last ones may be shared out at the end of the batch)
    assert len(by_clinic["clinic-0"]) == len(by_clinic["clinic-1"]) == 1
    assert by_clinic["clinic-0"] != by_clinic["clinic-1"]


class SlowToStart(batch.Printer):
    def __init__(self, *args, **kwargs):
        time.sleep(3)
        super().__init__(*args, **kwargs)


def test_the_time_budget_starts_when_the_document_starts_not_when_the_worker_does(document, tmp_path, monkeypatch):
    # A cold worker: slow imports, a slow disk.
    monkeypatch.setattr(batch, "Printer", SlowToStart)
    outcomes = run(document, ["sleep:1", "sleep:1"], tmp_path, seconds=2)
    assert [o.error for o in outcomes] == [None, None]


def test_a_document_over_its_time_budget_is_stopped_and_the_next_one_runs(document, tmp_path):
    started = time.monotonic()
    outcomes = run(document, ["sleep:30", "sleep:0"], tmp_path, seconds=1)
    assert time.monotonic() - started < 15
    assert "took longer than its time budget of 1 s" in outcomes[0].error
    assert outcomes[1].error is None


def killed_by(renderer, printer, task: Task) -> Outcome:
    """A task whose worker is stopped from outside while it works (an administrator's kill, the OOM killer)."""
    os.kill(os.getpid(), getattr(signal, task.html))
    time.sleep(5)
    return Outcome(task.document, html="not reached")


@pytest.mark.parametrize(
    "name,said",
    [("SIGTERM", "stopped by SIGTERM"), ("SIGKILL", "stopped by SIGKILL (the system may have run out of memory)")],
)
def test_a_worker_stopped_by_a_signal_is_reported_as_such_without_a_traceback(document, tmp_path, capfd, name, said):
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt("Stopped (SIGTERM)")))
    # The build's own clean-stop handler is installed when its workers start, as generate.main does.
    try:
        with Workers(None, jobs=1, budget=Budget(), temp_dir=tmp_path, perform=killed_by) as workers:
            [outcome] = workers.run([Task("test", document, name)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert said in outcome.error
    assert "Traceback" not in capfd.readouterr().err


def test_booklets_are_printed_last_in_their_clinic_unless_there_are_fewer_clinics_than_workers(tmp_path):
    """Many clinics: each booklet follows its clinic's leaflets, to bind what its worker has just laid out. Fewer
    clinics than workers: the leaflets are shared out between workers anyway, so the booklets go first and lay out
    their parts while the other workers print the leaflets, the other way round."""
    content = load_content(DATA)
    clinic = load_clinic(find_clinic_file("example", DATA), content)
    documents = plan_documents([clinic], content, tmp_path)
    outcomes = [Outcome(document, html="<p>x</p>") for document in documents]
    one_worker = [task.document.name for task in tasks.print_tasks(outcomes, content, jobs=1)]
    assert one_worker[-1] == "booklet" and len(one_worker) == len(documents)
    two_workers = [task.document.name for task in tasks.print_tasks(outcomes, content, jobs=2)]
    assert two_workers[0] == "booklet" and sorted(two_workers) == sorted(one_worker)
    # The leaflets the other way round from the booklet's order, each sharing what its pages were found to be: the
    # booklet's worker meets late the leaflets the other meets early (pdf/shared.py).
    assert two_workers[1:] == one_worker[-2::-1]
    assert [t.share for t in tasks.print_tasks(outcomes, content, jobs=2)] == [False] + [True] * (len(documents) - 1)
    assert not any(t.share for t in tasks.print_tasks(outcomes, content, jobs=1))
    assert {task.group for task in tasks.print_tasks(outcomes, content, jobs=2)} == {clinic.key}
