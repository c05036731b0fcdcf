"""Every message a user can read is a sentence: a capital first letter and a full stop.

Checked in the source, so a new ``raise Conflict("lowercase fragment")`` fails here before
any route returns it: each domain error, field error and validator message we write."""

from __future__ import annotations

import ast
from pathlib import Path

from chalicelib import errors
from chalicelib.errors import field_errors, sentence

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
DOMAIN_ERRORS = {name for name, value in vars(errors).items()
                 if isinstance(value, type) and issubclass(value, errors.DomainError)} - {"NotFound"}
# Helpers whose argument becomes a field message, and where the message sits in their arguments.
FIELD_HELPERS = {"field_error": 1, "_invalid": 1, "_bad_birth_date": 0}
VALIDATOR_DIRS = ("schemas", "domain")


def _literal_text(node: ast.expr) -> str | None:
    """The text of a string literal or f-string (placeholders as '{}'), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _messages() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        validators = path.relative_to(ROOT).parts[0] in VALIDATOR_DIRS
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name, index = _name(call), None
            if name in DOMAIN_ERRORS:
                index = 0
            elif name in FIELD_HELPERS:
                index = FIELD_HELPERS[name]
            elif name == "ValueError" and validators:
                index = 0
            text = _literal_text(call.args[index]) if index is not None and len(call.args) > index else None
            if text is not None:
                found.append((f"{path.relative_to(ROOT.parent)}:{call.lineno}", text))
    return found


def test_messages_we_write_are_sentences():
    messages = _messages()
    assert len(messages) > 50  # the walk found them
    fragments = [f"{where}: {text!r}" for where, text in messages
                 if not (text[:1].isupper() or text[:1] in "'\"{") or not text.endswith((".", "?", "!"))]
    assert fragments == []


def test_not_found_names_the_thing_in_a_sentence():
    assert errors.NotFound("reader profile").message == "The reader profile was not found."


def test_pydantic_messages_become_sentences_without_its_value_error_prefix():
    raised = ValueError("Must be HH:MM between 00:00 and 23:59.")
    fields = field_errors([
        {"loc": ("start",), "msg": f"Value error, {raised}", "type": "value_error", "ctx": {"error": raised}},
        {"loc": (), "msg": "Field required", "type": "missing"},
    ])
    assert fields == [
        {"path": "start", "message": "Must be HH:MM between 00:00 and 23:59.", "type": "value_error"},
        {"path": "(body)", "message": "Field required.", "type": "missing"},
    ]
    assert sentence("cursor is invalid") == "Cursor is invalid."
