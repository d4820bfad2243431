"""``python -m brainalign`` runs the command line, like the ``brainalign`` script."""

from .cli import main

main(prog_name="brainalign")
