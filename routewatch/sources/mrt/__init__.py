"""MRT archives (RFC 6396): framing, record decoding, the reader and the daemon's feed."""
