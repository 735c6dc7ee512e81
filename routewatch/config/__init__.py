"""The configuration: schema and defaults (``schema``), scalar values, messages, reference, BGPalerter import."""
