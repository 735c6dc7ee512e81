"""VRP sources: RTR caches and JSON exports, the I/O side of :mod:`routewatch.rpki`.

A new kind of VRP source is one module here plus one line in
:data:`routewatch.sources.vrp.feeds.VRP_SOURCES` (and its settings class in
``routewatch.config.rpki``).
"""
