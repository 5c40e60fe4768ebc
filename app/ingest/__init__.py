"""Transport adapters: bytes in, plain Python values out. No database, no Flask."""
