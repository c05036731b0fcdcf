"""The import contract of pyproject.toml ([tool.importlinter]), which `make lint` runs:
handlers -> services -> models | integrations, never back up; services never see HTTP.

The project must keep it, and the contract must have teeth: each forbidden direction,
written into a small stand-in package, breaks it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_the_project_keeps_its_import_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


LAYERS = ("handlers", "services", "models", "integrations", "schemas", "domain")
CLEAN = {
    "handlers/me.py": "from chalicelib.services import users\nfrom chalicelib.schemas import me\n",
    "services/users.py": ("from chalicelib.models import user\nfrom chalicelib.integrations import aws\n"
                          "from chalicelib.domain import rules\n"),
    "schemas/me.py": "from chalicelib.domain import rules\n",
    "domain/rules.py": "",
    "models/user.py": "",
    "integrations/aws.py": "",
}


def _stand_in(tmp_path: Path, extra: dict[str, str]) -> Path:
    package = tmp_path / "chalicelib"
    for layer in LAYERS:
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    for name, text in {**CLEAN, **extra}.items():
        with (package / name).open("a") as module:
            module.write(text)
    return tmp_path


def test_the_stand_in_package_keeps_the_contract(tmp_path):
    result = _lint(_stand_in(tmp_path, {}))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module,line", [
    ("services/users.py", "from chalicelib.handlers import me\n"),
    ("services/users.py", "from chalicelib.schemas.me import *\n"),
    ("services/users.py", "def later():\n    import chalice\n"),
    ("models/user.py", "from chalicelib.services import users\n"),
    ("models/user.py", "from chalicelib.handlers import me\n"),
    ("integrations/aws.py", "from chalicelib.services import users\n"),
    ("integrations/aws.py", "from chalicelib.handlers import me\n"),
    ("domain/rules.py", "from chalicelib.services import users\n"),
    ("domain/rules.py", "from chalicelib.schemas import me\n"),
    ("domain/rules.py", "from chalicelib.models import user\n"),
    ("schemas/me.py", "from chalicelib.services import users\n"),
    ("schemas/me.py", "from chalicelib.handlers import me\n"),
])
def test_an_import_pointing_up_breaks_the_contract(tmp_path, module, line):
    result = _lint(_stand_in(tmp_path, {module: line}))
    assert result.returncode != 0, f"{module}: {line!r} was allowed\n{result.stdout}"
    assert "BROKEN" in result.stdout
