"""``python -m routewatch``: the same as the ``routewatch`` command."""

from .cli import main

main()
