"""Extract the product requirements' TypeScript interfaces into interfaces.json.

    python tests/contract/extract_interfaces.py /work/shared/000_7cc9ef998fc6b53b.txt

The requirements are plain text with ```typescript blocks of simple interfaces: one field
per line (``name?: type;``), inline object types, ``A | B`` string unions, ``T[]``, and
named enums. That is all this reads; anything else fails loudly rather than guessing.
Each field becomes {"type": string|number|boolean|object|array|date|enum, "optional": bool}
plus "enum" (values), "fields" (an inline object), "items" (an array's element) or "ref"
(another interface or a type the requirements do not define, e.g. WeeklySchedule).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

WANTED = ("Reading", "Review", "PsychicReader", "ReadingOption", "ReadingTimeSpan", "User", "UserPreferences",
          "UserOnboarding", "CreditPackage", "SubscriptionPlan", "Subscription", "Badge", "Notification",
          "Status", "SuggestedReading", "PaginatedResponse")
OUT = Path(__file__).with_name("interfaces.json")

_INTERFACE = re.compile(r"^interface (\w+)(?:<\w+>)?(?: extends (\w+))? \{$")
_ENUM = re.compile(r"^enum (\w+) \{$")
_FIELD = re.compile(r"^(\w+)(\?)?: (.+?);?$")
_ENUM_MEMBER = re.compile(r"""^\w+ = ['"]([^'"]+)['"],?$""")
_LITERAL = re.compile(r"""^['"]([^'"]*)['"]$""")
_PRIMITIVE = {"string": "string", "number": "number", "boolean": "boolean", "Date": "date"}


def _lines(text: str) -> list[str]:
    """The lines of every typescript block, comments stripped."""
    lines: list[str] = []
    for block in re.findall(r"```typescript\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"//.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


def _enums(lines: list[str]) -> dict[str, list[str]]:
    enums: dict[str, list[str]] = {}
    name: str | None = None
    for line in lines:
        if (match := _ENUM.match(line)) is not None:
            name, enums[match.group(1)] = match.group(1), []
        elif name is not None and line == "}":
            name = None
        elif name is not None:
            member = _ENUM_MEMBER.match(line)
            if member is None:
                raise ValueError(f"unreadable enum member in {name}: {line!r}")
            enums[name].append(member.group(1))
    return enums


def _type(text: str, enums: dict[str, list[str]]) -> dict[str, Any]:
    text = text.strip()
    if text.endswith("[]"):
        return {"type": "array", "items": _type(text[:-2], enums)}
    if text in _PRIMITIVE:
        return {"type": _PRIMITIVE[text]}
    if "|" in text:
        values = [_LITERAL.match(part.strip()) for part in text.split("|")]
        if all(values):
            return {"type": "enum", "enum": [value.group(1) for value in values if value]}
        raise ValueError(f"unsupported union: {text!r}")
    if text in enums:
        return {"type": "enum", "enum": enums[text], "ref": text}
    if text.startswith("Record<"):
        return {"type": "object"}
    if re.fullmatch(r"[A-Z]\w*", text):
        return {"type": "object", "ref": text}
    raise ValueError(f"unsupported type: {text!r}")


def _body(lines: list[str], start: int, enums: dict[str, list[str]]) -> tuple[dict[str, Any], int]:
    """The fields from ``lines[start]`` to the closing brace; returns them and the index after it."""
    fields: dict[str, Any] = {}
    index = start
    while lines[index].rstrip(";") != "}":
        match = _FIELD.match(lines[index])
        if match is None:
            raise ValueError(f"unreadable field: {lines[index]!r}")
        name, optional, type_text = match.group(1), bool(match.group(2)), match.group(3).rstrip(";").strip()
        if type_text == "{":
            inner, index = _body(lines, index + 1, enums)
            fields[name] = {"type": "object", "optional": optional, "fields": inner}
            continue
        fields[name] = {**_type(type_text, enums), "optional": optional}
        index += 1
    return fields, index + 1


def extract(text: str, wanted: tuple[str, ...] = WANTED) -> dict[str, Any]:
    lines = _lines(text)
    enums = _enums(lines)
    found: dict[str, tuple[str | None, dict[str, Any]]] = {}
    index = 0
    while index < len(lines):
        match = _INTERFACE.match(lines[index])
        if match is None:
            index += 1
            continue
        name, base = match.group(1), match.group(2)
        try:
            fields, index = _body(lines, index + 1, enums)
        except ValueError:
            if name in wanted:
                raise
            index += 1  # an interface we do not check (e.g. with index signatures)
            continue
        found[name] = (base, fields)
    result: dict[str, Any] = {}
    for name in wanted:
        base, fields = found[name]
        inherited = found[base][1] if base else {}
        result[name] = {**inherited, **fields}
    return result


def main(path: str) -> None:
    OUT.write_text(json.dumps(extract(Path(path).read_text()), indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
