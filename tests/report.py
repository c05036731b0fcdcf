"""Lines a test wants shown in pytest's closing summary (e.g. the authorization matrix size)."""

LINES: list[str] = []


def report(line: str) -> None:
    if line not in LINES:
        LINES.append(line)
