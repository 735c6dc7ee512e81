"""routewatch: watch the BGP routes and the authoritative DNS a network depends on."""

__version__ = "0.1.0"
