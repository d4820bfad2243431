"""What the command may assume about the process it runs in.

``brainalign`` started from a shell (the console script, ``python -m brainalign``) owns its process:
nothing else will run in it after the command. A command called in someone else's process (click's
``CliRunner``, a notebook calling ``main([...])``) must leave that process as it found it.
"""

from __future__ import annotations

import sys

#: Set by :class:`~brainalign.cli._common.OneLineGroup` when the command line comes from ``sys.argv``.
own_process = False


def xarray_without_dask() -> None:
    """In the command's own process, have xarray run as if dask were not installed.

    xarray imports ``dask.array`` on its first DataArray when dask is installed (about 0.25 s of a
    one-second command), although a command that reads whole arrays into memory never uses it.
    Marking ``dask`` unimportable before xarray is first imported makes xarray take its numpy-only
    path (the same arrays, the same numbers). Not done in someone else's process, nor once xarray or
    dask is already imported. Call it only from a command that uses no dask (no ``--dask-scheduler``).
    """
    if own_process and "dask" not in sys.modules and "xarray" not in sys.modules:
        sys.modules["dask"] = None
