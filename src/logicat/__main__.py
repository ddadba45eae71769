"""``python -m logicat`` runs the command-line interface (torchrun uses this form)."""

from logicat.cli import main

main()
