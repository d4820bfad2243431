"""Stimulus loading from a zip and from a folder against a bare Pillow loop over the same files.

brainalign's loaders (``zip_stimulus_set(...).load(i)``, ``folder_stimulus_set(...).load(i)``)
read each image's bytes, decode them with Pillow and convert them to float32 (H, W, 3) in [0, 1].
The reference does exactly that with no brainalign code: one ``zipfile.ZipFile`` opened once (or
the files read one by one), ``Image.open(...).convert("RGB")``, ``np.asarray(..., float32) / 255``.
A third line shows what reopening the zip for every image costs (the loader before it kept one
handle open): opening parses the whole central directory, O(members) per image.

Printed: the median seconds of each over the repeats (alternating runs) and the throughput ratios
reference / brainalign (target >= 0.9). ``--quick`` loads 100 images once (a smoke test). The
last line is the JSON result rows of ``perf/_report.py``; without the default zip (the Tang data in
``$BRAINALIGN_SHARED_DATA``) the script says so and gives no rows.

    python perf/bench_stimulus_loading.py                      # first 2,000 Tang V1 patterns (9,500-member zip)
    python perf/bench_stimulus_loading.py --images 9500 --repeats 3
    python perf/bench_stimulus_loading.py --zip my_images.zip  # any zip of images
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from _report import emit, row

TARGET_RATIO = 0.9


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def main() -> None:
    from brainalign.config import shared_data_dir
    from brainalign.stimuli.sources import IMAGE_SUFFIXES, folder_stimulus_set, zip_stimulus_set

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_zip = shared_data_dir() / "tang-macaque-v1-patterns" / "pattern_stimuli_9500.zip"
    parser.add_argument("--zip", default=str(default_zip))
    parser.add_argument("--images", type=int, default=2000, help="how many of the zip's images to load")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reopen-images", type=int, default=100,
                        help="images loaded by the reopen-per-image line (its time is scaled to --images)")
    parser.add_argument("--quick", action="store_true", help="100 images, one repeat (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.images, args.repeats, args.reopen_images = 100, 1, 20

    archive = Path(args.zip)
    if archive == default_zip and not archive.is_file():
        print(f"skipped: no Tang V1 patterns zip at {archive} (set $BRAINALIGN_SHARED_DATA)")
        emit([])
        return
    stimuli = zip_stimulus_set(archive)   # sorted members, as brainalign orders them
    n = min(args.images, len(stimuli))
    members = list(stimuli.metadata["filename"][:n])
    n_reopen = min(n, args.reopen_images)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        with zipfile.ZipFile(archive) as handle:
            for member in members:
                handle.extract(member, folder)
        from_folder = folder_stimulus_set(folder)
        files = [folder / m for m in members]
        assert list(from_folder.metadata["filename"]) == [str(PurePosixPath(m)) for m in members]
        assert all(PurePosixPath(m).suffix.lower() in IMAGE_SUFFIXES for m in members)

        # generators: the timed passes drop each image once loaded, so every loop allocates alike
        # (kept lists of 2,000 float images made the timings a matter of which loop paid the page faults)
        def brainalign_zip():
            return (stimuli.load(i) for i in range(n))

        def bare_zip():
            with zipfile.ZipFile(archive) as handle:
                yield from (_decode(handle.read(m)) for m in members)

        def reopen_zip():   # on the first --reopen-images only: it is slow
            for m in members[:n_reopen]:
                with zipfile.ZipFile(archive) as handle:
                    yield _decode(handle.read(m))

        def brainalign_folder():
            return (from_folder.load(i) for i in range(n))

        def bare_folder():
            return (_decode(f.read_bytes()) for f in files)

        runs = {"brainalign zip": brainalign_zip, "Pillow zip": bare_zip, "brainalign folder": brainalign_folder,
                "Pillow folder": bare_folder, "zip reopened per image": reopen_zip}
        reference = list(brainalign_zip())   # warm the page cache; check equal pixels
        for name in ("Pillow zip", "brainalign folder", "Pillow folder", "zip reopened per image"):
            assert all(np.array_equal(a, b) for a, b in zip(reference, runs[name]())), name
        del reference
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                started = time.perf_counter()
                for _ in run():
                    pass
                times[name].append(time.perf_counter() - started)
    median = {name: statistics.median(t) for name, t in times.items()}
    median["zip reopened per image"] *= n / n_reopen   # scaled from its n_reopen images
    print(f"{n} images of {archive.name} ({len(stimuli)} members), {args.repeats} repeats, medians:")
    for name, value in median.items():
        print(f"  {name:<24} {value:8.3f} s  ({n / value:8.0f} images/s)")
    ratios = {source: median[f"Pillow {source}"] / median[f"brainalign {source}"] for source in ("zip", "folder")}
    print(f"ratio zip    (Pillow / brainalign): {ratios['zip']:.3f}  (target >= {TARGET_RATIO})")
    print(f"ratio folder (Pillow / brainalign): {ratios['folder']:.3f}  (target >= {TARGET_RATIO})")
    reopen = median["zip reopened per image"] / median["brainalign zip"]
    print(f"reopening the zip per image (timed on {n_reopen} images, scaled): {reopen:.1f}x brainalign's time")
    case = f"{n} images of {archive.name}, median of {args.repeats}"
    rows = [row(f"{case}, {source}", "throughput ratio bare Pillow / brainalign", ratios[source],
                target=f">= {TARGET_RATIO}",
                note=f"{median[f'Pillow {source}']:.3g} s vs {median[f'brainalign {source}']:.3g} s")
            for source in ("zip", "folder")]
    rows.append(row(f"{case}, zip", "time of reopening the zip per image / brainalign", reopen, unit="x",
                    note=f"timed on {n_reopen} images, scaled"))
    emit(rows)


if __name__ == "__main__":
    main()
