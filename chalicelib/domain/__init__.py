"""Domain rules and the plain values services take: no storage, no HTTP. Services and
schemas both import from here (never the other way round)."""
