"""Where brainalign looks for things."""

from pathlib import Path

import brainalign
from brainalign.config import shared_data_dir


def test_shared_data_env_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("BRAINALIGN_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path


def test_shared_data_is_found_beside_the_checkout_from_any_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("BRAINALIGN_SHARED_DATA", raising=False)
    monkeypatch.chdir(tmp_path)   # no ../shared/data here
    beside = Path(brainalign.__file__).resolve().parents[1].parent / "shared" / "data"
    expected = beside.resolve() if beside.is_dir() else Path("../shared/data")
    assert shared_data_dir() == expected
