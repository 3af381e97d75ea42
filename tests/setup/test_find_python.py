"""The set-up finds Python 3.10 and 3.11 rather than assuming a path, and says what to do without one."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bare_path(tmp_path: Path) -> str:
    """A PATH with only the shell tools the finder uses: no Python, no pyenv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "ls", "sort", "cat", "env"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_without_python310_the_message_says_what_is_needed(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/find-python310")],
        env={"PATH": bare_path(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Python 3.10 was not found" in result.stderr
    assert "pyenv install 3.10" in result.stderr


def test_an_explicit_python310_that_is_not_310_is_not_taken(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/find-python310")],
        env={"PATH": bare_path(tmp_path), "PYTHON310": sys.executable},  # this is 3.11
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1


def test_python310_is_found_on_this_machine() -> None:
    found = subprocess.run(
        [str(ROOT / "scripts/find-python310")], capture_output=True, text=True, check=True
    ).stdout.strip()
    version = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.strip() == "(3, 10)"


def test_python311_is_found_on_this_machine() -> None:
    found = subprocess.run(
        [str(ROOT / "scripts/find-python311")],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    ).stdout.strip()
    assert Path(found).exists()
