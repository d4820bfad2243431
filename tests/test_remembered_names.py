"""timm's and torchvision's names, remembered per installed version (brainalign/models/remembered_names.py):
only the installed version's file is read, a damaged file is ignored, a read-only cache keeps nothing
and fails nothing, and the early check accepts every name the library builds."""

import errno
import json
import os
from importlib import metadata
from pathlib import Path

import pytest

from brainalign.errors import ModelError
from brainalign.models.remembered_names import remember, remembered
from brainalign.models.specs import check_model_spec, library_names


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_CACHE", str(tmp_path))
    return tmp_path / "model-names"


def test_only_the_installed_version_is_read(cache):
    cache.mkdir()
    (cache / "timm-0.0.1.json").write_text(json.dumps(["only_in_an_old_timm"]))
    assert remembered("timm") is None
    check_model_spec("timm:resnet1")                      # nothing known: left to the build
    remember("timm", ["resnet18"])
    assert remembered("timm") == {"resnet18"}
    assert (cache / f"timm-{metadata.version('timm')}.json").is_file()
    with pytest.raises(ModelError, match="unknown timm model 'resnet1'"):
        check_model_spec("timm:resnet1")


@pytest.mark.parametrize("content", ["", "{", '{"resnet18": 1}', "[1, 2]"])
def test_a_damaged_file_is_ignored_and_replaced(cache, content):
    cache.mkdir()
    (cache / f"torchvision-{metadata.version('torchvision')}.json").write_text(content)
    assert remembered("torchvision") is None
    check_model_spec("torchvision:nope")                  # nothing usable: left to the build
    remember("torchvision", ["resnet18"])                 # and the damaged file is replaced
    assert remembered("torchvision") == {"resnet18"}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_full_or_read_only_cache_keeps_nothing_and_fails_nothing(cache, monkeypatch, code):
    write_text = Path.write_text

    def half_then_fail(path, text, *args, **kwargs):
        write_text(path, text[: len(text) // 2], *args, **kwargs)
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    remember("timm", ["resnet18", "resnet34"])
    assert remembered("timm") is None and list(cache.iterdir()) == []   # no partial file, no temporary


def test_every_name_the_libraries_build_passes_the_early_check(cache):
    import timm

    names = library_names("timm")
    assert remembered("timm") == set(names)
    deprecated = "swsl_resnet50"                            # built by timm, not in timm.list_models()
    assert timm.is_model(deprecated) and deprecated not in timm.list_models()
    for spec in (f"timm:{deprecated}", "timm:resnet18", "timm:resnet18.a1_in1k", "timm:resnet18.any_tag"):
        check_model_spec(spec)                             # tags are checked when the model is built
    assert set(library_names("torchvision")) == remembered("torchvision")
    check_model_spec("torchvision:resnet18")
    with pytest.raises(ModelError) as early:
        check_model_spec("torchvision:resnet1")
    from brainalign.models import load_model
    with pytest.raises(ModelError) as built:
        load_model("torchvision:resnet1")
    assert (early.value.message, early.value.hint) == (built.value.message, built.value.hint)
