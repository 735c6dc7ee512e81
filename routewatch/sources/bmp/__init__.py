"""BMP (RFC 7854): routers stream their and their peers' routes to routewatch's station."""
