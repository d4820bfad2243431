"""Stimulus loading from a zip and from a folder against a bare Pillow loop over the same files.

brainalign's loaders (``zip_stimulus_set(...).load(i)``, ``folder_stimulus_set(...).load(i)``)
read each image's bytes, decode them with Pillow and convert them to float32 (H, W, 3) in [0, 1].
The reference does exactly that with no brainalign code: one ``zipfile.ZipFile`` opened once (or
the files read one by one), ``Image.open(...).convert("RGB")``, ``np.asarray(..., float32) / 255``.
A third line shows what reopening the zip for every image costs (the loader before it kept one
handle open): opening parses the whole central directory, O(members) per image.

Printed: the median seconds of each over the repeats (alternating runs) and the throughput ratios
reference / brainalign (target >= 0.9).

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


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def main() -> None:
    from brainalign.config import shared_data_dir
    from brainalign.stimuli.sources import IMAGE_SUFFIXES, folder_stimulus_set, zip_stimulus_set

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zip", default=str(shared_data_dir() / "tang-macaque-v1-patterns"
                                             / "pattern_stimuli_9500.zip"))
    parser.add_argument("--images", type=int, default=2000, help="how many of the zip's images to load")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reopen-images", type=int, default=100,
                        help="images loaded by the reopen-per-image line (its time is scaled to --images)")
    args = parser.parse_args()

    archive = Path(args.zip)
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

        def brainalign_zip():
            return [stimuli.load(i) for i in range(n)]

        def bare_zip():
            with zipfile.ZipFile(archive) as handle:
                return [_decode(handle.read(m)) for m in members]

        def reopen_zip():   # on the first --reopen-images only: it is slow
            out = []
            for m in members[:n_reopen]:
                with zipfile.ZipFile(archive) as handle:
                    out.append(_decode(handle.read(m)))
            return out

        def brainalign_folder():
            return [from_folder.load(i) for i in range(n)]

        def bare_folder():
            return [_decode(f.read_bytes()) for f in files]

        runs = {"brainalign zip": brainalign_zip, "Pillow zip": bare_zip, "brainalign folder": brainalign_folder,
                "Pillow folder": bare_folder, "zip reopened per image": reopen_zip}
        first = {name: run() for name, run in runs.items()}   # warm the page cache; check equal pixels
        for name in ("Pillow zip", "brainalign folder", "Pillow folder", "zip reopened per image"):
            assert all(np.array_equal(a, b) for a, b in zip(first["brainalign zip"], first[name])), name
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
    median = {name: statistics.median(t) for name, t in times.items()}
    median["zip reopened per image"] *= n / n_reopen   # scaled from its n_reopen images
    print(f"{n} images of {archive.name} ({len(stimuli)} members), {args.repeats} repeats, medians:")
    for name, value in median.items():
        print(f"  {name:<24} {value:8.3f} s  ({n / value:8.0f} images/s)")
    print(f"ratio zip    (Pillow / brainalign): {median['Pillow zip'] / median['brainalign zip']:.3f}  (target >= 0.9)")
    print(f"ratio folder (Pillow / brainalign): {median['Pillow folder'] / median['brainalign folder']:.3f}  "
          "(target >= 0.9)")
    print(f"reopening the zip per image (timed on {n_reopen} images, scaled): "
          f"{median['zip reopened per image'] / median['brainalign zip']:.1f}x brainalign's time")


if __name__ == "__main__":
    main()
