"""``python -m brainalign.cli``: the ``brainalign`` command (also what ``torchrun -m brainalign.cli`` runs)."""

from . import main

main(prog_name="brainalign")
