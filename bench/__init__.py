"""Performance figures for the Auralumic backend (``make bench``): measured, never asserted."""
