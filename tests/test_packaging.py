"""Packaging: the package list is complete, and a built wheel (not editable) ships the manifests."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = setuptools.find_packages(where=str(ROOT), include=["brainalign*"])
    assert sorted(listed) == sorted(found + ["brainalign.data_manifests"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the source tree (no build artefacts left in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for name in ("brainalign", "data_manifests"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True, capture_output=True, timeout=300)
    [built] = out.glob("brainalign-*.whl")
    return built


def test_the_wheel_ships_every_manifest_and_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    manifests = sorted(p.name for p in (ROOT / "data_manifests").glob("*.yaml"))
    assert manifests and {f"brainalign/data_manifests/{m}" for m in manifests} <= names
    assert "brainalign/reports/templates/report.html.j2" in names
    assert not any(n.startswith("data_manifests/") for n in names)  # nothing at the top level of site-packages


def test_an_installed_wheel_finds_its_manifests(wheel, tmp_path):
    """Installed into a fresh venv (dependencies borrowed from this one), `data list` sees every manifest."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    [fresh_site] = (venv / "lib").glob("python*/site-packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(fresh_site),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    # this environment's packages after the fresh one's, so `import brainalign` finds the wheel's copy
    (fresh_site / "zz_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    probe = subprocess.run([str(python), "-c", "import brainalign, json; "
                            "from brainalign.neural.manifests import list_manifests, manifest_dir; "
                            "print(json.dumps([brainalign.__file__, str(manifest_dir()), list_manifests()]))"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert probe.returncode == 0, probe.stderr
    module, folder, names = json.loads(probe.stdout)
    assert module.startswith(str(fresh_site)) and folder == str(fresh_site / "brainalign" / "data_manifests")
    assert names == sorted(p.stem for p in (ROOT / "data_manifests").glob("*.yaml"))
