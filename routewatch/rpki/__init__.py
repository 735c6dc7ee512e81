"""RPKI route origin validation: VRP sets in, RFC 6811 states out.

Everything here is pure (:mod:`.vrp`, :mod:`.validation`, :mod:`.rtr_pdu`,
:mod:`.rtr_session`, :mod:`.json_vrps`, :mod:`.route_state`): no I/O, no clock,
no config schema, so the core may take VRP sets and validation results as
values. The sockets, files and URLs that feed them are VRP sources, in
:mod:`routewatch.sources.vrp`.
"""
