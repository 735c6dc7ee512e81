"""Authoritative DNS: zones, queries, DNSSEC.

dnspython imports every DNSSEC algorithm it knows when ``dns.dnssec`` loads, DSA among
them, and cryptography 51 warns on each use of its DSA classes. The warning is about
dnspython's own module, not anything a zone or an operator did, yet it would reach
the stderr of every ``routewatch`` command (a script's one-line error contract among
them): ignored here, before any module of this package imports ``dns.dnssec``. A zone
signed with DSA is still validated, or reported, as before.
"""

import warnings

warnings.filterwarnings("ignore", message=r"DSA is deprecated", module=r"dns\.dnssecalgs\.")
