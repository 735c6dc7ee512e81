"""``routewatch demo``: a reconstructed incident played over RIS Live to the real daemon, offline."""
