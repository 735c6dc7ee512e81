"""What the core detects: one module per kind, all behind :class:`routewatch.core.detectors.base.Detector`."""
