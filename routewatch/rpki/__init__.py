"""RPKI route origin validation: VRPs in (RTR caches, JSON files), RFC 6811 states out.

The pure parts (:mod:`.vrp`, :mod:`.validation`, :mod:`.rtr_pdu`,
:mod:`.rtr_session`, :mod:`.json_vrps`) do no I/O and read no clock, so the core
may take VRP sets and validation results as values; the thin I/O layers
(:mod:`.rtr_client`, :mod:`.json_source`, :mod:`.feeds`) feed them.
"""
