"""``routewatch run``: the sources, the DNS side, the core and the exporter in one supervised process."""
