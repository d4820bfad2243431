"""Executors behind one interface: in-process (default), local processes, Dask distributed.

Every executor offers ``map_unordered(fn, items)``, yielding ``fn(item)`` for each item as it
finishes, and is a context manager that releases its workers. ``fn`` and the items must be
picklable (module-level functions, dataclasses) for anything but the in-process executor.

Scheduler strings (``brainalign run --scheduler``):

========================  ==================================================================
(none), ``inprocess``     run tasks one after the other in this process
``processes:N``           N local worker processes (``concurrent.futures``, spawn)
``local:N``               a Dask ``LocalCluster`` of N single-threaded worker processes
``tcp://HOST:PORT``       the Dask scheduler at that address (any ``scheme://`` Dask accepts)
========================  ==================================================================

Local worker processes never outlive the process that started them: on Linux the kernel sends
them SIGKILL when it dies (``PR_SET_PDEATHSIG``), and everywhere a watchdog thread in each worker
exits within a second of its parent disappearing (after a ``kill -9`` of ``brainalign run``, say).
Records already written stay; the temporaries of a task cut short are swept by the next writer.

Dask is optional: ``pip install 'brainalign[distributed]'``. With Dask, a worker that dies loses
only the task it was running; the scheduler re-runs that task on another worker (up to Dask's
``distributed.scheduler.allowed-failures``, default 3). Slurm: start workers with dask-jobqueue
and pass the scheduler address (README, "Scaling out").
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from typing import Callable, Iterable, Iterator

from .errors import InputError


class Executor:
    """Runs independent tasks; subclasses implement :meth:`map_unordered`."""

    name = "executor"

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (no-op by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return self.name


class InProcessExecutor(Executor):
    """Tasks one after the other in the calling process (the default)."""

    name = "in-process"

    def map_unordered(self, fn, items):
        for item in items:
            yield fn(item)


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, *, poll_s: float = 0.5) -> None:
    """Make this process end when ``parent_pid`` does (a worker's initializer).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so the kernel kills it with its parent. Everywhere:
    a daemon thread that exits the process (code 1) once ``os.getppid()`` is no longer
    ``parent_pid`` (the parent died and the worker was re-parented), checked every ``poll_s`` s.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass   # the watchdog below still works
    if os.getppid() != parent_pid:   # the parent died before the signal was armed
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="brainalign-parent-watchdog", daemon=True).start()


class ProcessExecutor(Executor):
    """``workers`` local processes started with ``spawn`` (safe with torch and threads); they end
    when this process does, however it ends (see :func:`die_with_parent`)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers,
                                                           mp_context=multiprocessing.get_context("spawn"),
                                                           initializer=die_with_parent, initargs=(os.getpid(),))
        self.name = f"{workers} local processes"

    def map_unordered(self, fn, items):
        futures = [self.pool.submit(fn, item) for item in items]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: an existing scheduler (``address``) or a new LocalCluster (``workers``)."""

    def __init__(self, address: str | None = None, *, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("the Dask scheduler needs the `distributed` package",
                             hint="pip install 'brainalign[distributed]'") from None
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            address = self.cluster.scheduler_address
            self.name = f"Dask LocalCluster of {workers} workers"
        else:
            self.name = f"Dask scheduler {address}"
        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            self.close()
            raise InputError(f"cannot reach the Dask scheduler at {address} ({type(exc).__name__})",
                             hint="check the address and that `dask scheduler` is running there") from None

    def map_unordered(self, fn, items):
        from distributed import as_completed

        items = list(items)
        if not items:
            return
        futures = self.client.map(fn, items, pure=False)
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            self.client.cancel(futures)

    def close(self):
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def make_executor(scheduler: str | None = None) -> Executor:
    """The executor for a ``--scheduler`` string (see the module docstring); InputError if malformed."""
    if scheduler in (None, "", "inprocess", "in-process"):
        return InProcessExecutor()
    match = re.fullmatch(r"(processes|local):(\d+)", scheduler)
    if match:
        workers = int(match.group(2))
        if workers < 1:
            raise InputError(f"--scheduler {scheduler}: need at least one worker")
        return ProcessExecutor(workers) if match.group(1) == "processes" else DaskExecutor(workers=workers)
    if re.fullmatch(r"[a-z][a-z0-9+]*://\S+", scheduler):
        return DaskExecutor(scheduler)
    raise InputError(f"unknown scheduler {scheduler!r}",
                     hint="use inprocess, processes:N, local:N (Dask LocalCluster) or tcp://HOST:PORT")
