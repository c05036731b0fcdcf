"""Recommendations: what clients did with readers (``interactions``), a pure ranking over the
explore snapshot (``scoring``) and its entry point (``service.recommend``).

Importing the package registers the interactions' domain-events consumers.
"""

from chalicelib.services.recommend import interactions as interactions
