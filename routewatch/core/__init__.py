"""The pure core: events in, detections and snapshots out; no I/O, no clock, no config schema."""
