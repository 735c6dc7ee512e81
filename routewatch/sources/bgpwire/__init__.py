"""BGP UPDATE path attributes and NLRI on the wire, shared by every source that reads raw BGP."""
