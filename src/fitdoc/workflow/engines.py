"""Where :func:`~fitdoc.workflow.triage.triage_batch` runs: in this process, in a pool
of worker processes on this machine (the default), or as Ray tasks (``fitdoc[ray]``).

Units go out in batches (``BATCH`` units per task) so that the cost of a task is
spread over many runs; Ray keeps at most ``max_in_flight`` tasks pending, so that a
tracking server behind the source sees a bounded number of clients at once. Every
engine yields the same outcomes; only their order differs.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator, Sequence

from ..errors import FitdocError
from .triage import Options, Outcome, Stats, triage_batch

BATCH = 25


def batches(units: Sequence, size: int) -> list[list]:
    return [list(units[i:i + size]) for i in range(0, len(units), size)]


def in_process(work: list[list], options: Options, jobs: int) -> Iterator[list[Outcome]]:
    """The batches in a process pool of ``jobs`` workers (here when ``jobs`` is 1)."""
    if jobs <= 1 or len(work) <= 1:
        for batch in work:
            yield triage_batch(batch, options)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed([pool.submit(triage_batch, batch, options) for batch in work]):
            yield future.result()


def on_ray(work: list[list], options: Options, jobs: int, address: str | None = None,
           max_in_flight: int | None = None) -> Iterator[list[Outcome]]:
    """The batches as Ray tasks, at most ``max_in_flight`` (default ``2 * jobs``) pending.
    Joins the cluster at ``address`` (or starts a local one) unless Ray is running here."""
    try:
        import ray
    except ImportError:
        raise FitdocError("--engine ray", "needs Ray: pip install 'fitdoc[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else jobs, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    task = ray.remote(num_cpus=1)(triage_batch)
    limit = max_in_flight or 2 * max(jobs, 1)
    pending, queue = [], list(work)
    while queue or pending:
        while queue and len(pending) < limit:
            pending.append(task.remote(queue.pop(0), options))
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])


def run(units: Sequence, options: Options = Options(), *, jobs: int = 1, engine: str = "process", cache=None,
        batch: int = BATCH, on_progress: Callable[[int], None] | None = None, **engine_options) -> tuple[list[dict], Stats]:
    """The rows of every unit, from ``cache`` where a unit's stamp is unchanged, the rest
    fetched and diagnosed by ``engine``; and the counts and seconds spent."""
    started = time.perf_counter()
    stats = Stats(units=len(units))
    cached = cache.lookup(units) if cache is not None else {}
    stats.cached = len(cached)
    rows = [row for unit in units if unit.key in cached for row in cached[unit.key]]
    todo = [u for u in units if u.key not in cached]
    if on_progress:
        on_progress(stats.cached)
    work = batches(todo, max(1, min(batch, -(-len(todo) // (4 * max(jobs, 1))))))  # 4 tasks per worker at least
    results = on_ray(work, options, jobs, **engine_options) if engine == "ray" else in_process(work, options, jobs)
    for outcomes in results:
        for o in outcomes:
            rows.extend(o.rows)
            for name in ("fetch_s", "diagnose_s", "fetch_cpu_s", "diagnose_cpu_s"):
                setattr(stats, name, getattr(stats, name) + getattr(o, name))
        if cache is not None:
            cache.store(outcomes)
        if on_progress:
            on_progress(len(outcomes))
    stats.wall_s = time.perf_counter() - started
    return rows, stats
