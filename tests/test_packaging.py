"""Packaging contracts: dependency lists agree, notebooks carry no outputs, no machine paths."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip_deps = {_name(r): r.strip() for r in project["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")):
            conda[_name(dep)] = dep.strip()
    assert set(conda) == set(pip_deps)
    for name, spec in pip_deps.items():
        assert conda[name].replace(" ", "") == spec.replace(" ", ""), name


def test_committed_notebooks_have_no_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), path.name
                assert cell.get("execution_count") is None, path.name
        assert "papermill" not in nb.get("metadata", {}), path.name


def test_no_machine_paths_in_tracked_files():
    try:
        files = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (e.g. an sdist)
        return
    roots = ["work", "tmp", "root"]  # spelled apart so this file does not match itself
    pattern = re.compile("(" + "|".join(f"/{r}/" for r in roots) + "|/home/[a-z])")
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".xlsx", ".png", ".pdf", ".parquet"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        if pattern.search(text):
            offenders.append(name)
    assert not offenders, offenders
