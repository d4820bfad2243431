"""`brainalign data ...`: list, describe, fetch, verify, import and remove datasets."""

from __future__ import annotations

import click

from ..metrics.options import IMPORTED_RDM_COMPARISONS
from ..neural.importer_options import IMAGE_ORDERS, RDM_KINDS
from ..safe_files import dumps_json
from . import main
from ._common import OutputPath, json_option, quiet_option, user_errors

EPILOG_DATA = """\b
Examples:
  brainalign data list
  brainalign data info freemanziemba2013
  brainalign data fetch freemanziemba2013
  brainalign data import brainscore assy.nc --csv stim.csv --zip stim.zip --name fz --time-window 50,200
  brainalign score alexnet_bn64 --benchmark 'imported.fz.*'
"""


@main.group("data", short_help="Datasets: list, fetch, verify, import your own, remove.", epilog=EPILOG_DATA)
def data_group():
    """Real datasets through manifests (data_manifests/*.yaml) and importers.

    Downloads go to the data home ($BRAINALIGN_HOME, default ~/.cache/brainalign/data), verified
    against the manifest's checksums. Imported datasets become benchmarks named
    imported.NAME.REGION (see `brainalign benchmarks list`).
    """


@data_group.command("list", short_help="List known datasets, their state and licence.")
@json_option
@user_errors
def data_list(as_json):
    """List every manifest and every imported dataset. State: fetched (every file downloaded),
    shared (the copy in $BRAINALIGN_SHARED_DATA that its benchmarks read is there), partial or absent."""
    from ..config import data_home, shared_data_dir
    from ..neural.fetch import downloads_dir
    from ..neural.manifests import list_manifests, load_manifest

    rows = []
    for name in list_manifests():
        manifest = load_manifest(name)
        have = sum((downloads_dir(name) / f.name).is_file() for f in manifest.files)
        state = "fetched" if have == len(manifest.files) else ("partial" if have else "absent")
        if state != "fetched" and manifest.shared and (shared_data_dir() / manifest.shared).is_dir():
            state = "shared"
        rows.append({"name": name, "title": manifest.title, "species": manifest.species,
                     "regions": list(manifest.regions), "licence": manifest.licence, "state": state})
    found = []
    if (data_home() / "imported").is_dir():  # the importers' module is heavy: only when something was imported
        from ..neural.importers.dataset import list_imported
        found = list_imported()
    imported = [{"name": r["name"], "importer": r.get("importer"), "regions": r.get("regions"),
                 "n_neuroids": r.get("n_neuroids"), "n_rdms": r.get("n_rdms"), "n_stimuli": r.get("n_stimuli"),
                 "benchmark": _is_benchmark(r)} for r in found]
    if as_json:
        click.echo(dumps_json({"manifests": rows, "imported": imported}, indent=2))
        return
    click.echo(f"{'dataset':<32} {'state':<8} {'species':<8} {'regions':<34} licence")
    for row in rows:
        click.echo(f"{row['name']:<32} {row['state']:<8} {row['species']:<8} {','.join(row['regions']):<34} "
                   f"{row['licence']}")
    if imported:
        click.echo("\nimported:")
        for row in imported:
            size = (f"{row['n_rdms']} RDM(s) x {row['n_stimuli']} stimuli" if row["importer"] == "rdm"
                    else f"{row['n_neuroids']} neuroids x {row['n_stimuli']} stimuli")
            note = "" if row["benchmark"] else "; no images: not a benchmark, import it again with --images"
            click.echo(f"  {row['name']:<26} {row['importer']:<18} {','.join(row['regions'] or []) or '-'} "
                       f"({size}{note})")


def _is_benchmark(record: dict) -> bool:
    """Whether an imported dataset's record makes it a benchmark (it has images)."""
    if record.get("importer") == "rdm":
        return bool(record.get("has_rdm_images")) and "rdms_sha256" in record
    return bool(record.get("has_images")) and "assembly_sha256" in record


@data_group.command("info", short_help="Describe a dataset: source, files, licence, citation.")
@click.argument("name")
@json_option
@user_errors
def data_info(name, as_json):
    """Print the manifest of dataset NAME: description, files with URL and hash, licence and terms,
    citation, and the import command to run after fetching."""
    from ..neural.manifests import load_manifest

    manifest = load_manifest(name)
    if as_json:
        click.echo(dumps_json(manifest.to_dict(), indent=2))
        return
    click.echo(f"{manifest.name}: {manifest.title}\n\n{manifest.description}\n")
    click.echo(f"species: {manifest.species}   regions: {', '.join(manifest.regions)}")
    if manifest.stimulus_set:
        click.echo(f"stimulus set: {manifest.stimulus_set}")
    click.echo(f"licence: {manifest.licence}")
    if manifest.terms:
        click.echo(f"terms: {manifest.terms}")
    if manifest.homepage:
        click.echo(f"homepage: {manifest.homepage}")
    click.echo("files:")
    for f in manifest.files:
        size = f"{f.size / 1e6:.1f} MB" if f.size else "size unknown"
        click.echo(f"  {f.name} ({f.role}, {size}, {f.hash or 'no published checksum'})\n    {f.url}")
    click.echo(f"importer: {manifest.importer} {dumps_json(manifest.import_options, indent=None)}")
    if manifest.notes:
        click.echo(f"notes: {manifest.notes}")
    click.echo(f"\ncitation:\n{manifest.citation}")


@data_group.command("fetch", short_help="Download a dataset's files into the data home, verified.")
@click.argument("name")
@quiet_option
@json_option
@user_errors
def data_fetch(name, quiet, as_json):
    """Download every file of dataset NAME (resuming interrupted downloads), check each checksum,
    and keep a file only when it matches."""
    from ..neural.fetch import fetch
    from ..neural.manifests import load_manifest

    paths = fetch(load_manifest(name), progress=not quiet)
    if as_json:
        click.echo(dumps_json([str(p) for p in paths], indent=2))
        return
    for path in paths:
        click.echo(f"ok {path}")


@data_group.command("verify", short_help="Check the downloaded files of a dataset against its checksums.")
@click.argument("name")
@json_option
@user_errors
def data_verify(name, as_json):
    """Recompute the checksum of each downloaded file of NAME; exit 2 if any is missing or differs."""
    from ..errors import ChecksumError
    from ..neural.fetch import verify
    from ..neural.manifests import load_manifest

    rows = verify(load_manifest(name))
    if as_json:
        click.echo(dumps_json(rows, indent=2))
    else:
        for row in rows:
            click.echo(f"{row['status']:<10} {row['name']}  {row['detail']}")
    bad = [r for r in rows if r["status"] in ("missing", "mismatch")]
    if bad:
        raise ChecksumError(f"{len(bad)} of {len(rows)} file(s) of {name} are {bad[0]['status']} "
                            f"(first: {bad[0]['name']})", hint=f"run `brainalign data fetch {name}`")


@data_group.command("remove", short_help="Delete a dataset's downloaded and imported files.")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted.")
@json_option
@user_errors
def data_remove(name, dry_run, as_json):
    """Delete what the data home holds for dataset NAME: downloads/NAME, .partial/NAME and
    imported/NAME, printing each folder with its size. NAME must be a plain name; a folder that
    holds files brainalign did not write (or is a link) is refused and nothing is deleted."""
    from ..errors import InputError
    from ..neural.fetch import remove, stored_folders

    found = stored_folders(name) if dry_run else remove(name)
    if not found:
        raise InputError(f"nothing stored for {name!r}", hint="`brainalign data list` shows what is stored")
    if as_json:
        click.echo(dumps_json([{**f, "path": str(f["path"])} for f in found], indent=2))
        return
    for folder in found:
        click.echo(f"{'would remove' if dry_run else 'removed'} {folder['path']} ({folder['kind']}: "
                   f"{folder['files']} file(s), {folder['bytes'] / 1e6:.1f} MB)")


@data_group.group("import", short_help="Import recordings (Brain-Score, Allen NWB, generic arrays, RDMs).")
def data_import():
    """Import recordings into the data home as a named dataset; it becomes the benchmark
    imported.NAME.REGION (or imported.NAME without regions)."""


def _common(function):
    options = [
        click.option("--name", required=True, help="Dataset name in the data home (benchmarks imported.NAME.*)."),
        click.option("--min-reliability", type=float, default=None,
                     help="Keep neuroids whose split-half Spearman-Brown reliability is at least this."),
        click.option("--stratify", default=None, help="Stimulus coordinate that stratifies the benchmark's splits."),
        click.option("-o", "--output", type=OutputPath(), default=None,
                     help="Also write the assembly here (for `brainalign score --assembly`)."),
        click.option("--overwrite", is_flag=True, help="Replace an imported dataset (and OUTPUT) of that name."),
        json_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _plain(name: str) -> str:
    """``--name`` checked to be a plain name before any file is read or written."""
    from ..safe_files import plain_name

    return plain_name(name, "--name")


def _window(text):
    if text is None:
        return None
    from ..errors import InputError
    try:
        start, end = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"bad time window {text!r}", hint="give START,END in ms, e.g. 50,200") from None
    return start, end


def _report(summary: dict, as_json: bool) -> None:
    if as_json:
        click.echo(dumps_json(summary, indent=2))
        return
    click.echo(f"imported {summary['name']}: {summary['n_neuroids']} neuroids, {summary['n_presentations']} "
               f"presentations -> {summary['folder']}")
    if summary.get("selection"):
        s = summary["selection"]
        click.echo(f"kept {s['kept']} of {s['of']} neuroids with reliability >= {s['min_reliability']}")
    rows = summary.get("rows")
    if rows:
        how = {"metadata": "metadata rows", "default": "default ids"}.get(rows["from"], f"images, {rows['order']} order")
        click.echo(f"rows: {rows['n']} stimuli ({how}), first {rows['first']!r}, last {rows['last']!r}")
    if summary.get("output"):
        click.echo(f"wrote {summary['output']}")
    click.echo("benchmarks: " + ", ".join(summary["benchmarks"]))


@data_import.command("brainscore", short_help="A Brain-Score assembly (.nc) with its stimulus CSV and zip.")
@click.argument("assembly", type=click.Path(dir_okay=False))
@click.option("--csv", "csv_path", required=True, type=click.Path(dir_okay=False), help="Stimulus set CSV.")
@click.option("--zip", "zip_path", required=True, type=click.Path(dir_okay=False), help="Stimulus set zip.")
@click.option("--time-window", default=None, help="START,END in ms: average time bins starting in [START, END).")
@click.option("--sha1", default=None, help="Expected sha1 of ASSEMBLY (checked before reading).")
@_common
@user_errors
def import_brainscore_cmd(assembly, csv_path, zip_path, time_window, sha1, name, min_reliability, stratify,
                          output, overwrite, as_json):
    """Import a Brain-Score NetCDF assembly (dims in any order, legacy image_id allowed) and its
    stimulus set.

    \b
    Example:
      brainalign data import brainscore assy_movshon_FreemanZiemba2013_public.nc \\
        --csv stimulus.csv --zip stimulus.zip --time-window 50,200 --stratify texture_type --name fz2013
    """
    from ..neural.fetch import verify_file
    from ..neural.importers import finish_import
    from ..neural.importers.brainscore import import_brainscore

    _plain(name)
    if sha1:
        verify_file(assembly, f"sha1:{sha1}")
    dataset = import_brainscore(name, assembly, csv_path, zip_path, time_window=_window(time_window))
    _report(finish_import(dataset, min_reliability=min_reliability, stratify=stratify, output=output,
                          overwrite=overwrite), as_json)


@data_import.command("cowley2023", short_help="A session of the Cowley et al. 2023 V4 release.")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--session", default="210325", show_default=True, help="Recording session id.")
@_common
@user_errors
def import_cowley_cmd(folder, session, name, min_reliability, stratify, output, overwrite, as_json):
    """Import FOLDER/responses_raw/responses_SESSION.npy with FOLDER/images/images_SESSION.zip."""
    from ..neural.importers import finish_import
    from ..neural.importers.cowley2023 import import_cowley2023

    _plain(name)
    _report(finish_import(import_cowley2023(name, folder, session=session), min_reliability=min_reliability,
                          stratify=stratify, output=output, overwrite=overwrite), as_json)


@data_import.command("generic", short_help="Responses from .npy/.npz/.h5/.csv/.mat with an axis spec.")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--axes", required=True, help="Name of each array axis, e.g. neuroid,stimulus,repetition "
                                            "(neuroid, stimulus required; repetition, time_bin optional).")
@click.option("--images", default=None, help="Folder or .zip of images, or a .npy image stack (ids: paths "
                                              "without suffix).")
@click.option("--metadata", type=click.Path(dir_okay=False), default=None,
              help="CSV, one row per stimulus in array order, with a stimulus_id column.")
@click.option("--image-order", "order", type=click.Choice(IMAGE_ORDERS), default=None,
              help="Without --metadata: the order of the image files that the array's stimulus rows follow. "
                   "natural: digit runs by value (1, 2, ..., 10); lexicographic: by name (1, 10, 100, 2). "
                   "Required when the two differ.")
@click.option("--key", default=None, help="Array name inside .npz/.h5/.mat files.")
@click.option("--region", default=None, help="Brain area of every neuroid (e.g. V4).")
@click.option("--species", default="unknown", show_default=True)
@_common
@user_errors
def import_generic_cmd(responses, axes, images, metadata, order, key, region, species, name, min_reliability,
                       stratify, output, overwrite, as_json):
    """Import RESPONSES (NaN marks missing repetitions) with their images.

    Rows of the stimulus axis are matched to --metadata's stimulus_id rows, or else to the image
    files in --image-order; the ids of the first and last rows are printed so that you can check
    them. Only images of stimuli with responses are copied.

    \b
    Example:
      brainalign data import generic resp.npy --axes neuroid,stimulus,repetition \\
        --images images/ --region V4 --name mydata --min-reliability 0.5
      brainalign data import generic neu75.npy --axes stimulus,neuroid \\
        --images pattern_stimuli_9500.zip --image-order natural --region V1 --name tang
    """
    from ..neural.importers import finish_import
    from ..neural.importers.generic import import_generic

    _plain(name)
    if images is None:
        from ..errors import InputError
        raise InputError("--images is required to score a model on imported responses",
                         hint="give the folder, zip or .npy stack of the stimuli")
    dataset = import_generic(name, responses, axes=axes, images=images, metadata=metadata, key=key, region=region,
                             species=species, order=order)
    _report(finish_import(dataset, min_reliability=min_reliability, stratify=stratify, output=output,
                          overwrite=overwrite), as_json)


@data_import.command("rdm", short_help="RDMs (square, condensed or per-subject stacks) with their images, for RSA.")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(RDM_KINDS), required=True,
              help="What the values are; similarities s become dissimilarities 1 - s.")
@click.option("--images", default=None,
              help="Required: folder or .zip of the images, named by stimulus id (paths without suffix), "
                   "or a .npy stack.")
@click.option("--stimulus-ids", type=click.Path(dir_okay=False), default=None,
              help="Text file, one stimulus id per RDM row (default: the images' ids in --image-order).")
@click.option("--image-order", "order", type=click.Choice(IMAGE_ORDERS), default=None,
              help="Without --stimulus-ids: the order of the image files that the RDM rows follow "
                   "(required when numbered names sort differently by name and by number).")
@click.option("--key", default=None, help="Array name inside .npz/.h5/.mat files.")
@click.option("--region", default=None, help="Brain area of the RDMs (benchmark imported.NAME.REGION).")
@click.option("--species", default="unknown", show_default=True)
@click.option("--comparison", type=click.Choice(IMPORTED_RDM_COMPARISONS),
              default="spearman", show_default=True, help="How a model RDM is compared with each imported RDM.")
@click.option("--name", required=True, help="Dataset name in the data home (benchmark imported.NAME[.REGION]).")
@click.option("--overwrite", is_flag=True)
@json_option
@user_errors
def import_rdm_cmd(path, kind, images, stimulus_ids, order, key, region, species, comparison, name, overwrite,
                   as_json):
    """Import RDM(s) with the images of their conditions as an RSA benchmark.

    The RDMs are stored as rsatoolbox RDMs (one per subject: the rows of a stack); the benchmark
    imported.NAME.REGION compares each model layer's correlation-distance RDM with them
    (--comparison), with rsatoolbox's leave-one-subject-out noise ceiling when there are several
    subjects, and commits a layer on a held-out half of the stimuli, like kriegeskorte2008.IT.

    \b
    Example:
      brainalign data import rdm it_rdms.npy --kind dissimilarity --images images/ \\
        --stimulus-ids ids.txt --region IT --name it
      brainalign score alexnet_bn64 --benchmark 'imported.it.*'
    """
    from pathlib import Path

    from ..neural.importers.generic import image_source
    from ..neural.importers.rdm import import_rdms, save_rdms

    _plain(name)
    if images is None:
        from ..errors import InputError
        raise InputError("an RDM import needs the images of its conditions to become a benchmark",
                         hint="pass --images FOLDER|ZIP (one image per stimulus id)")
    ids = Path(stimulus_ids).read_text().split() if stimulus_ids else None
    image_ids, source = image_source(images, order="lexicographic" if ids else order,
                                     instead="--stimulus-ids with one id per RDM row")
    rdms = import_rdms(path, kind=kind, key=key, stimulus_ids=ids if ids is not None else image_ids)
    folder = save_rdms(name, rdms, source=path, images=source, region=region, species=species,
                       comparison=comparison, overwrite=overwrite)
    rows = [str(i) for i in rdms.pattern_descriptors["stimulus_id"]]
    benchmark = f"imported.{name}" + (f".{region}" if region else "")
    summary = {"name": name, "folder": str(folder), "n_rdms": rdms.n_rdm, "n_stimuli": rdms.n_cond,
               "rows": {"first": rows[0], "last": rows[-1]}, "benchmarks": [benchmark]}
    if as_json:
        click.echo(dumps_json(summary, indent=2))
        return
    click.echo(f"imported {name}: {rdms.n_rdm} RDM(s) of {rdms.n_cond} stimuli -> {folder}")
    click.echo(f"rows: first {rows[0]!r}, last {rows[-1]!r}")
    click.echo(f"benchmarks: {benchmark}")


@data_import.command("allen-2p", short_help="An Allen Visual Coding two-photon NWB 1 file (natural scenes).")
@click.argument("nwb", type=click.Path(dir_okay=False))
@_common
@user_errors
def import_allen_2p_cmd(nwb, name, min_reliability, stratify, output, overwrite, as_json):
    """Mean sweep dF/F per natural-scene trial, cell ids, area, depth, Cre line; images from the
    file's stimulus templates. Nayebi et al. 2023 keep cells with --min-reliability 0.75.

    \b
    Example:
      brainalign data import allen-2p 501498760.nwb --name visp_501498760 --min-reliability 0.75
    """
    from ..neural.importers import finish_import
    from ..neural.importers.allen_2p import import_allen_2p

    _plain(name)
    _report(finish_import(import_allen_2p(name, nwb), min_reliability=min_reliability, stratify=stratify,
                          output=output, overwrite=overwrite), as_json)


@data_import.command("allen-neuropixels", short_help="An Allen Visual Coding Neuropixels NWB 2 session (natural scenes).")
@click.argument("nwb", type=click.Path(dir_okay=False))
@click.option("--images", required=True,
              help="The 118 natural scenes: a .npy stack in frame order, or a folder/zip named sceneNNN.*")
@click.option("--bin-ms", type=float, default=10.0, show_default=True)
@click.option("--time-window", default=None,
              help="START,END in ms after onset; default: Nayebi et al. 2023's reliability window.")
@click.option("--areas", default=None, help="Comma-separated areas to keep (e.g. VISp,VISl).")
@click.option("--nayebi-units", is_flag=True,
              help="Keep units whose split-half reliability reaches 0.5 in some bin (Nayebi et al. 2023).")
@_common
@user_errors
def import_allen_np_cmd(nwb, images, bin_ms, time_window, areas, nayebi_units, name, min_reliability, stratify, output,
                        overwrite, as_json):
    """Spike counts of every unit in 10 ms bins 0-250 ms after each natural-scene onset, averaged
    over the time window; unit area and quality metrics kept as coordinates.

    \b
    Example:
      brainalign data import allen-neuropixels session_715093703.nwb --images scenes.npy \\
        --areas VISp,VISl --name np715093703 --min-reliability 0.5
    """
    from ..neural.importers import finish_import
    from ..neural.importers.allen_2p import scene_id
    from ..neural.importers.allen_neuropixels import import_allen_neuropixels
    from ..neural.importers.generic import image_source

    _plain(name)
    ids, source = image_source(images)
    if str(images).endswith(".npy"):  # a stack in Allen frame order
        renamed = source
        source = lambda: ((scene_id(k), suffix, data) for k, (_, suffix, data) in enumerate(renamed()))  # noqa: E731
    dataset = import_allen_neuropixels(name, nwb, source, bin_ms=bin_ms, time_window=_window(time_window),
                                       areas=areas.split(",") if areas else None, select_units=nayebi_units)
    _report(finish_import(dataset, min_reliability=min_reliability, stratify=stratify, output=output,
                          overwrite=overwrite), as_json)
