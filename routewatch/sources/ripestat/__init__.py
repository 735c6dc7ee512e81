"""A small, polite client of RIPEstat's data API (https://stat.ripe.net/docs/data-api/).

RIPEstat is a shared public service: routewatch sends the ``sourceapp``
parameter it asks for on every call, keeps at most ``concurrency`` requests in
flight, caches answers for a short while (a CLI run and a reconciliation both
ask the same question several times), and backs off exponentially on
connection errors, 5xx and 429 (honouring ``Retry-After``).

Every failure becomes :class:`~routewatch.errors.RipestatError` with one honest
line ("could not reach RIPEstat at https://stat.ripe.net: ..."), so that the CLI
prints a sentence and the live source logs one, never a traceback.

The modules: ``client`` (the client and its transport), ``answers`` (the
values answers read as), ``parse`` (the response parsers, pure functions over
the documented JSON shapes, tested without any network; entries they cannot
read are counted in :attr:`RipestatClient.skipped` and logged, never fatal),
``history`` (the past of a resource, from ``bgplay``) and ``rpki`` (RIPEstat's
own origin validation). The client, the answers and the parsers are
re-exported here.
"""

from routewatch.sources.ripestat.answers import MalformedEntry, RelatedPrefix, RoutingStatus, SeenAt, Visibility
from routewatch.sources.ripestat.client import MAX_BACKOFF, RipestatClient, retry_after
from routewatch.sources.ripestat.parse import (
    parse_announced_prefixes,
    parse_as_path,
    parse_looking_glass,
    parse_looking_glass_peer,
    parse_routing_status,
    parse_time,
)

__all__ = [
    "MAX_BACKOFF",
    "MalformedEntry",
    "RelatedPrefix",
    "RipestatClient",
    "RoutingStatus",
    "SeenAt",
    "Visibility",
    "parse_announced_prefixes",
    "parse_as_path",
    "parse_looking_glass",
    "parse_looking_glass_peer",
    "parse_routing_status",
    "parse_time",
    "retry_after",
]
