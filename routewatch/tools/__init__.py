"""One-off answers over the core: prefix and ASN reports, config generation, archive replay, plots."""
