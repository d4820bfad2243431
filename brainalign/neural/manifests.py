"""Dataset manifests: one YAML file per dataset naming its files, checksums, licence and importer.

A manifest lives in ``data_manifests/NAME.yaml`` at the top of the source tree, shipped in the
wheel as ``brainalign/data_manifests/`` (or in ``$BRAINALIGN_MANIFESTS``). Fields:

``name``, ``title``, ``description``, ``species``, ``regions`` (list), ``stimulus_set``,
``licence``, ``terms``, ``citation`` (BibTeX), ``homepage``, ``importer`` (the name of a
registered importer, see :func:`brainalign.neural.importers.list_importers`), ``import_options``
(mapping), ``notes`` (optional) and ``files``: a list of ``{name, url, size, hash, role}`` where
``hash`` is ``sha1:HEX``, ``sha256:HEX`` or ``null`` when the source publishes none (then
``fetch`` records the sha256 it saw).
``name`` equals the file's name without ``.yaml``; it and every file name are plain names
(:func:`brainalign.safe_files.plain_name`), so nothing lands outside the data home. URLs are ``https://``,
``http://`` or ``file:///ABSOLUTE/PATH`` (a local mirror, checked against the hash like a download).
Nothing is read at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ChecksumError, FileFormatError, InputError
from ..safe_files import plain_name

HASH_ALGORITHMS = ("sha1", "sha256", "md5")
#: URL schemes a manifest file may use; ``file://`` (an absolute local path) serves offline mirrors.
URL_SCHEMES = ("https", "http", "file")
_REQUIRED = ("name", "title", "description", "species", "regions", "licence", "citation", "importer", "files")


@dataclass(frozen=True)
class ManifestFile:
    """One downloadable file: its name in the data home, URL, size in bytes and ``alg:hex`` hash."""

    name: str
    url: str
    size: int | None = None
    hash: str | None = None
    role: str = "data"


@dataclass(frozen=True)
class Manifest:
    """A dataset manifest (see the module docstring for the fields)."""

    name: str
    title: str
    description: str
    species: str
    regions: tuple
    licence: str
    citation: str
    importer: str
    files: tuple
    terms: str = ""
    homepage: str = ""
    stimulus_set: str = ""
    import_options: dict = field(default_factory=dict)
    notes: str = ""
    path: str = ""
    shared: str = ""  # folder under $BRAINALIGN_SHARED_DATA holding the dataset as released (benchmarks read it)

    def file(self, name: str) -> ManifestFile:
        """The entry of the file called ``name``; KeyError naming the manifest otherwise."""
        for entry in self.files:
            if entry.name == name:
                return entry
        raise KeyError(f"manifest {self.name} lists no file {name!r}")

    def verify(self, path: str | os.PathLike) -> str:
        """Check the file at ``path`` against this manifest's hash of the file of that name.

        Returns its ``alg:hex`` digest. FileFormatError when the file is missing, ChecksumError
        (expected and actual digest) when it differs. A file whose manifest publishes no hash is
        hashed with sha256 and accepted.
        """
        import pooch

        path = Path(path)
        if not path.is_file():
            raise FileFormatError(f"missing {path}", hint=f"the {path.parent.name} folder must hold {path.name} "
                                                          f"(`brainalign data info {self.name}` says where from)")
        expected = self.file(path.name).hash or "sha256:"
        alg, _, want = expected.partition(":")
        actual = pooch.file_hash(str(path), alg=alg)
        if want and actual != want.lower():
            raise ChecksumError(f"{path} has {alg} {actual}, expected {want}",
                                hint=f"the file is not the released one of {self.name}; replace it with the original")
        return f"{alg}:{actual}"

    def open(self, folder: str | os.PathLike, file: str | None = None, **options):
        """Read ``folder/file`` (or the whole ``folder``) with this manifest's importer.

        Every manifest file that is read (``file`` alone, or all of them) is first checked with
        :meth:`verify`; ``options`` are added to the manifest's ``import_options``.
        """
        from .importers import get_importer

        folder = Path(folder)
        for entry in self.files if file is None else (self.file(file),):
            self.verify(folder / entry.name)
        return get_importer(self.importer).open(folder / file if file else folder, **{**self.import_options, **options})

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description,
                "species": self.species, "regions": list(self.regions), "licence": self.licence,
                "terms": self.terms, "citation": self.citation, "homepage": self.homepage,
                "stimulus_set": self.stimulus_set, "importer": self.importer,
                "import_options": dict(self.import_options), "notes": self.notes,
                "files": [vars(f) for f in self.files]}


def manifest_dir() -> Path:
    """``$BRAINALIGN_MANIFESTS``, else the manifests shipped with brainalign.

    An installed wheel holds them in ``brainalign/data_manifests/``; a source checkout (and an
    editable install) keeps them at the top level, in ``data_manifests/`` beside ``brainalign/``.
    """
    env = os.environ.get("BRAINALIGN_MANIFESTS")
    if env:
        return Path(env).expanduser()
    package = Path(__file__).resolve().parents[1]
    shipped = package / "data_manifests"
    return shipped if shipped.is_dir() else package.parent / "data_manifests"


def list_manifests() -> list[str]:
    """Sorted names of every manifest in :func:`manifest_dir`."""
    folder = manifest_dir()
    return sorted(p.stem for p in folder.glob("*.yaml") if _is_plain(p.stem)) if folder.is_dir() else []


def _is_plain(name: str) -> bool:
    try:
        plain_name(name)
        return True
    except InputError:
        return False


def load_manifest(name: str) -> Manifest:
    """The manifest called ``name``; InputError if unknown, FileFormatError if malformed."""
    path = manifest_dir() / f"{plain_name(name, 'dataset name')}.yaml"
    if not path.is_file():
        known = ", ".join(list_manifests()) or "none"
        raise InputError(f"unknown dataset {name!r}", hint=f"known datasets: {known} (`brainalign data list`)")
    return parse_manifest(path)


def parse_manifest(path: Path) -> Manifest:
    """Read and check one manifest file."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FileFormatError(f"manifest {path} is not valid YAML ({str(exc).splitlines()[0]})",
                              hint="fix the file; data_manifests/freemanziemba2013.yaml is a complete example") from None
    if not isinstance(raw, dict):
        raise FileFormatError(f"manifest {path} must be a mapping", hint="see the fields in brainalign.neural.manifests")
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise FileFormatError(f"manifest {path} lacks {', '.join(missing)}", hint=f"required: {', '.join(_REQUIRED)}")
    name = _checked(plain_name, str(raw["name"]), "dataset name", path)
    if name != path.stem:
        raise FileFormatError(f"manifest {path} names the dataset {name!r}",
                              hint=f"a manifest's `name` is its file name without .yaml: {path.stem!r}")
    if not isinstance(raw["files"], list):
        raise FileFormatError(f"manifest {path}: `files` must be a list",
                              hint="files: [{name: FILE, url: https://..., hash: sha1:HEX}]")
    files = tuple(_file(entry, path) for entry in raw["files"])
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise FileFormatError(f"manifest {path} lists a file name twice", hint="file names must be unique")
    return Manifest(name=name, title=str(raw["title"]), description=str(raw["description"]).strip(),
                    species=str(raw["species"]), regions=tuple(raw["regions"]), licence=str(raw["licence"]),
                    citation=str(raw["citation"]).strip(), importer=str(raw["importer"]), files=files,
                    terms=str(raw.get("terms", "")).strip(), homepage=str(raw.get("homepage", "")),
                    stimulus_set=str(raw.get("stimulus_set", "")),
                    import_options=dict(raw.get("import_options") or {}), notes=str(raw.get("notes", "")).strip(),
                    path=str(path), shared=str(raw.get("shared") or ""))


def _file(entry, path: Path) -> ManifestFile:
    if not isinstance(entry, dict) or "name" not in entry or "url" not in entry:
        raise FileFormatError(f"manifest {path}: every file needs a name and a url",
                              hint="files: [{name: FILE, url: https://..., hash: sha1:HEX}]")
    file_name = _checked(plain_name, str(entry["name"]), "file name", path)
    url = _checked(_url, str(entry["url"]), file_name, path)
    digest = entry.get("hash")
    if digest is not None:
        alg, _, hexdigest = str(digest).partition(":")
        if alg not in HASH_ALGORITHMS or not hexdigest:
            raise FileFormatError(f"manifest {path}: hash {digest!r} of {entry['name']} is not ALG:HEX",
                                  hint=f"ALG is one of {', '.join(HASH_ALGORITHMS)}")
    size = entry.get("size")
    return ManifestFile(name=file_name, url=url, size=int(size) if size is not None else None,
                        hash=str(digest) if digest is not None else None, role=str(entry.get("role", "data")))


def _checked(check, value: str, what: str, path: Path) -> str:
    """``check(value, what)``, its InputError reported as a FileFormatError of the manifest ``path``."""
    try:
        return check(value, what)
    except InputError as error:
        raise FileFormatError(f"manifest {path}: {error.message}", hint=error.hint) from None


def _url(url: str, what: str) -> str:
    """``url`` if its scheme is supported and, for ``file:``, it names an absolute local path."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise InputError(f"the URL of {what} ({url!r}) is not {', '.join(s + '://' for s in URL_SCHEMES)}",
                         hint="give an http(s) URL, or file:///ABSOLUTE/PATH for a local mirror")
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        raise InputError(f"the URL of {what} ({url!r}) is not a local absolute path",
                         hint="write file:///ABSOLUTE/PATH (three slashes)")
    if parts.scheme != "file" and not parts.netloc:
        raise InputError(f"the URL of {what} ({url!r}) has no host", hint="write https://HOST/PATH")
    return url
