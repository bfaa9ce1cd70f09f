"""The wheel holds exactly the product: app.py and every file under bot/, handlers/ and
storage/ (data files such as bot/prompts.toml included), and nothing of tests/ or bench/.

    python .ci/check_wheel.py DIST/reverse_mentor-*.whl
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage")


def source_files() -> set[str]:
    files = {"app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(path.relative_to(ROOT).as_posix())
    return files


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        scripts = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
        entry_points = archive.read(scripts).decode() if scripts else ""
    shipped = {n for n in names if ".dist-info/" not in n}
    test_code = {n for n in shipped if n.startswith(("tests/", "bench/"))}
    problems = [f"test or benchmark code in the wheel: {n}" for n in sorted(test_code)]
    problems += [f"not in the wheel: {n}" for n in sorted(source_files() - shipped)]
    # More than the source holds: a stale build/ directory, or a package the include let in.
    extra = shipped - source_files() - test_code
    problems += [f"in the wheel but not in the source: {n}" for n in sorted(extra)]
    if "reverse-mentor = app:cli" not in entry_points:
        problems.append("no reverse-mentor console script")
    for problem in problems:
        print(f"check_wheel: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_wheel: {Path(wheel).name} holds the product only ({len(shipped)} files)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
