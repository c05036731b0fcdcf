"""Explore: the read model behind ``GET /readers`` (snapshot, search engine, online overlay)."""
