"""Trust and safety: the screen public text passes (``screen``), reports, the admin queue and
its decisions, and the rules admins edit.

Writers of public text use ``screen`` (and ``conflicted`` to retry their transaction); the
routes use the modules: ``reports``, ``decisions``, ``queue``, ``rules``. What the public sees
of moderated content is ``visibility`` (the states content items carry, read by every public
read).
"""

from __future__ import annotations

from chalicelib.services.moderation.queue import conflicted
from chalicelib.services.moderation.screening import Verdict, screen

__all__ = ["Verdict", "conflicted", "screen"]
