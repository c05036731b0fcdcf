"""infra/iam/groups.json, the single description of which function group may call what, and
its comparison with what the functions were recorded calling (tools/iam/__init__.py)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GROUPS_FILE = ROOT / "infra" / "iam" / "groups.json"
SNAPSHOT_FILE = ROOT / "infra" / "iam" / "recorded.json"
API_FUNCTION = "api_handler"  # Chalice's name for the API's function (logical id APIHandler)

Recorded = dict[str, dict[str, set[str]]]  # function -> resource -> IAM actions


@dataclass(frozen=True)
class CloudOnly:
    resource: str
    actions: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Group:
    name: str
    about: str
    functions: tuple[str, ...]
    grants: dict[str, frozenset[str]]  # resource -> actions the tests show this group needs
    cloud_only: tuple[CloudOnly, ...]  # what no test can show, each with its reason

    @property
    def role(self) -> str:
        """The role's logical id in the packaged template."""
        return "".join(part.capitalize() for part in re.split(r"[_-]", self.name)) + "Role"

    def allowed(self) -> dict[str, set[str]]:
        """Everything the group's role grants: resource -> actions."""
        granted: dict[str, set[str]] = defaultdict(set)
        for resource, actions in self.grants.items():
            granted[resource] |= actions
        for entry in self.cloud_only:
            granted[entry.resource] |= set(entry.actions)
        return dict(granted)

    def allows(self, action: str, resource: str) -> bool:
        return action in self.grants.get(resource, frozenset()) or any(
            entry.resource == resource and action in entry.actions for entry in self.cloud_only
        )


def _cloud_only(entries: Iterable[Mapping[str, Any]]) -> tuple[CloudOnly, ...]:
    return tuple(CloudOnly(str(e["resource"]), tuple(e["actions"]), str(e["why"])) for e in entries)


def load_groups(path: Path = GROUPS_FILE) -> dict[str, Group]:
    data = json.loads(path.read_text())
    every = _cloud_only(data.get("cloud_only_for_every_group", []))
    groups = {}
    for name, spec in data["groups"].items():
        groups[name] = Group(
            name=name,
            about=str(spec["about"]),
            functions=tuple(spec["functions"]),
            grants={resource: frozenset(actions) for resource, actions in spec.get("grants", {}).items()},
            cloud_only=(*every, *_cloud_only(spec.get("cloud_only", []))),
        )
    return groups


def group_of(groups: Mapping[str, Group]) -> dict[str, Group]:
    """function -> its group."""
    return {function: group for group in groups.values() for function in group.functions}


@dataclass
class Comparison:
    missing: list[str] = field(default_factory=list)  # recorded, not granted
    unused: list[str] = field(default_factory=list)  # granted, never recorded (and not cloud-only)
    unknown: list[str] = field(default_factory=list)  # recorded by a function no group names

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unused or self.unknown)

    def lines(self) -> list[str]:
        return [*self.unknown, *self.missing, *self.unused]


def compare(
    recorded: Mapping[str, Mapping[str, Iterable[str]]],
    groups: Mapping[str, Group],
    *,
    seen_in: Mapping[tuple[str, str, str], str] | None = None,
    check_unused: bool = True,
) -> Comparison:
    """What ``recorded`` (function -> resource -> actions) needs that the groups do not grant,
    and what the groups grant that nothing recorded needed (only with ``check_unused``: a
    partial record proves nothing unused). ``seen_in`` names the test a call was first seen in."""
    owners = group_of(groups)
    result = Comparison()
    used: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for function in sorted(recorded):
        group = owners.get(function)
        if group is None:
            result.unknown.append(
                f"function {function} is in no group of infra/iam/groups.json (it calls {_summary(recorded[function])})"
            )
            continue
        for resource in sorted(recorded[function]):
            for action in sorted(recorded[function][resource]):
                used[group.name].add((action, resource))
                if not group.allows(action, resource):
                    where = (seen_in or {}).get((function, action, resource))
                    result.missing.append(
                        f"function {function} calls {action} on {resource}, which group {group.name} does not grant"
                        + (f" (first seen in {where})" if where else "")
                        + f': add "{resource}": ["{action}"] to groups.{group.name}.grants'
                    )
    if check_unused:
        for group in groups.values():
            for resource in sorted(group.grants):
                for action in sorted(group.grants[resource] - {a for a, r in used[group.name] if r == resource}):
                    result.unused.append(
                        f"group {group.name} grants {action} on {resource}, which none of its functions "
                        f"({', '.join(group.functions)}) was seen calling: remove it from groups.{group.name}.grants, "
                        f"or move it to cloud_only with the reason no test can reach it"
                    )
    return result


def _summary(resources: Mapping[str, Iterable[str]]) -> str:
    return ", ".join(f"{a} on {r}" for r in sorted(resources) for a in sorted(resources[r]))


def load_snapshot(path: Path = SNAPSHOT_FILE) -> Recorded:
    data = json.loads(path.read_text())
    return {
        function: {resource: set(actions) for resource, actions in resources.items()}
        for function, resources in data["functions"].items()
    }


def write_snapshot(recorded: Mapping[str, Mapping[str, Iterable[str]]], path: Path = SNAPSHOT_FILE) -> None:
    data = {
        "about": (
            "The IAM permissions each function needed across the last full test run "
            "(tools/iam; refresh with `make iam-snapshot`). tests/unit/test_iam_policies.py "
            "compares infra/iam/groups.json with it."
        ),
        "functions": {
            function: {resource: sorted(recorded[function][resource]) for resource in sorted(recorded[function])}
            for function in sorted(recorded)
        },
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
