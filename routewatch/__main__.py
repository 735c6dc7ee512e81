"""``python -m routewatch``: the same as the ``routewatch`` command."""

from routewatch.cli import main

main()
