"""What the command may assume about the process it runs in.

``brainalign`` started from a shell (the console script, ``python -m brainalign``) owns its process:
nothing else will run in it after the command. A command called in someone else's process (click's
``CliRunner``, a notebook calling ``main([...])``) must leave that process as it found it.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

#: Set by :class:`~brainalign.cli._common.OneLineGroup` when the command line comes from ``sys.argv``.
own_process = False


@contextlib.contextmanager
def xarray_without_dask() -> Iterator[None]:
    """In the command's own process, have xarray run as if dask were not installed.

    xarray imports ``dask.array`` on its first DataArray when dask is installed (about 0.25 s of a
    one-second command), although a command that reads whole arrays into memory never uses it.
    Marking ``dask`` unimportable before xarray is first imported makes xarray take its numpy-only
    path (the same arrays, the same numbers); the mark is removed on the way out. Not done in
    someone else's process, once xarray or dask is imported, or when any brainalign plugin is
    installed (a plugin's regression or importer may use dask). Use it only around work that
    uses no dask itself (no ``--dask-scheduler``).
    """
    from ..plugins import any_installed

    mark = own_process and "dask" not in sys.modules and "xarray" not in sys.modules and not any_installed()
    if mark:
        sys.modules["dask"] = None
    try:
        yield
    finally:
        if mark and "dask" in sys.modules and sys.modules["dask"] is None:
            del sys.modules["dask"]
