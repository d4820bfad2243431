"""Where brainalign looks for things."""

from pathlib import Path

import pytest

import brainalign
from brainalign.config import shared_data_dir


def test_shared_data_env_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("BRAINALIGN_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path


def test_shared_data_is_found_beside_the_checkout_from_any_folder(monkeypatch, tmp_path):
    beside = Path(brainalign.__file__).resolve().parents[1].parent / "shared" / "data"
    if not beside.is_dir():
        pytest.skip("no shared data beside this checkout")
    monkeypatch.delenv("BRAINALIGN_SHARED_DATA", raising=False)
    monkeypatch.chdir(tmp_path)   # ../shared/data does not exist from here
    assert (shared_data_dir() / "README.md").is_file()
