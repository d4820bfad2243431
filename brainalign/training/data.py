"""Training images and the data loader: an image folder or zip (labels ignored), or ``sim``.

- A folder or zip is read as a :class:`brainalign.stimuli.StimulusSet` (every image below it, any
  class sub-folders ignored); its content hash covers every file's bytes.
- ``sim`` or ``sim:N`` is a pool of N (default 2048) procedural images drawn like the simulated
  benchmark's, but from a different seed so that none of the benchmark's images is trained on:
  image i comes from ``numpy.random.default_rng([1, i])`` alone: half are textures of the 14
  families (random family and sample), an eighth their phase-scrambled matched noise, a quarter
  dead-leaves patches and an eighth gratings of random orientation, frequency and phase. The pool
  is generated on first use and cached (keyed by the generator's source hash), 64x64 grayscale.

Each epoch visits a permutation drawn from (seed, epoch) alone; the first ``n - n % batch``
images of it form the epoch's batches, and with several processes each global batch is split
into consecutive equal parts, one per rank, so that the processes together see exactly the
batches one process would. Views are made in the loader's workers (:mod:`.augment`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..errors import InputError
from .augment import augment, normalise, view_seed
from .objectives.base import Augmentations

SIM_DATA_SEED = 1
SIM_DEFAULT_SIZE = 2048
_SIM = re.compile(r"^sim(?::(\d+))?$")


@dataclass
class TrainingImages:
    """``n`` images, each loaded as float32 (3, H, W) in [0, 1] by ``load(i)``.

    ``source`` is what the user gave; ``content_sha256`` identifies the images' bytes.
    """

    source: str
    n: int
    load: Callable[[int], torch.Tensor]
    content_sha256: str

    def describe(self) -> dict:
        return {"source": self.source, "n_images": self.n, "content_sha256": self.content_sha256}


def training_images(source: str, *, progress: bool = False) -> TrainingImages:
    """Resolve ``--data``: ``sim``, ``sim:N``, an image folder or a ``.zip`` of images."""
    match = _SIM.match(str(source))
    if match:
        n = int(match.group(1) or SIM_DEFAULT_SIZE)
        if n < 2:
            raise InputError(f"--data {source}: a pool needs at least 2 images", hint="e.g. --data sim:1024")
        pool = procedural_pool(n, progress=progress)
        digest = hashlib.sha256(pool.tobytes()).hexdigest()
        tensor = torch.from_numpy(pool)
        return TrainingImages(source=f"sim:{n}", n=n, content_sha256=digest,
                              load=lambda i: tensor[i].float().div(255.0).expand(3, -1, -1))
    from ..stimuli.sources import folder_stimulus_set, zip_stimulus_set
    from pathlib import Path

    path = Path(source).expanduser()
    if path.is_dir():
        stimuli = folder_stimulus_set(path)
    elif path.is_file() and path.suffix.lower() == ".zip":
        stimuli = zip_stimulus_set(path)
    else:
        raise InputError(f"--data {source}: not an image folder, a .zip of images or sim[:N]",
                         hint="e.g. --data imagenet/train (class folders are fine; labels are ignored) or --data sim")
    if len(stimuli) < 2:
        raise InputError(f"--data {source} holds {len(stimuli)} image; training needs at least 2",
                         hint="add images, or use --data sim")
    return TrainingImages(source=str(path), n=len(stimuli), content_sha256=stimuli.content_hash,
                          load=lambda i: torch.from_numpy(stimuli.load(i)).permute(2, 0, 1).contiguous())


def procedural_pool(n: int, *, seed: int = SIM_DATA_SEED, size: int = 64, progress: bool = False) -> np.ndarray:
    """The ``sim:N`` training pool, uint8 (n, size, size), generated once and cached on disk."""
    from ..config import cache_dir
    from ..safe_files import atomic_path, source_hash
    from ..stimuli import procedural

    path = cache_dir() / "training-sim" / f"pool-seed{seed}-n{n}-s{size}-{source_hash(procedural)}.npy"
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass
    from tqdm.auto import tqdm

    pool = np.stack([procedural_image(i, seed=seed, size=size)
                     for i in tqdm(range(n), desc="generate sim pool", unit="image", disable=not progress)])
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, pool)
    return pool


def procedural_image(i: int, *, seed: int = SIM_DATA_SEED, size: int = 64) -> np.ndarray:
    """Image ``i`` of the procedural pool, uint8 (size, size); depends on (seed, i) alone."""
    from ..stimuli import procedural as P

    rng = np.random.default_rng([seed, i])
    kind = i % 8
    if kind < 5:
        family = P.TEXTURE_FAMILIES[int(rng.integers(len(P.TEXTURE_FAMILIES)))]
        image = P.render_texture(family, size, rng)
        if kind == 4:
            image = P.phase_scramble(image, rng)
        image = (image - image.mean()) / max(image.std(), 1e-6) * P.TEXTURE_RMS_CONTRAST + 0.5
    elif kind < 7:
        image = P.dead_leaves(size, rng)
    else:
        image = 0.5 + 0.4 * P.grating(size, float(rng.uniform(0, 180)), float(rng.uniform(2, 16)),
                                      float(rng.uniform(0, 2 * np.pi)))
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


class ViewDataset(Dataset):
    """Item ``(epoch, i)``: (views (n_views, channels, size, size) float32, i), seeded per
    (seed, epoch, i, view). The epoch comes with each index (from :class:`EpochSampler`), so
    persistent loader workers need no message when an epoch starts."""

    def __init__(self, images: TrainingImages, spec: Augmentations, *, n_views: int, size: int, channels: int,
                 mean, std, seed: int):
        self.images, self.spec, self.n_views, self.size, self.channels = images, spec, n_views, size, channels
        self.mean, self.std, self.seed = tuple(mean), tuple(std), seed

    def __len__(self) -> int:
        return self.images.n

    def __getitem__(self, key: tuple[int, int]):
        epoch, i = int(key[0]), int(key[1])
        image = self.images.load(i)
        views = []
        for v in range(self.n_views):
            generator = torch.Generator().manual_seed(view_seed(self.seed, epoch, i, v))
            views.append(normalise(augment(image, self.spec, self.size, generator), self.mean, self.std, self.channels))
        return torch.stack(views), i


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of the ``n`` images in ``epoch`` of a run seeded ``seed``, shape (n,)."""
    generator = torch.Generator().manual_seed(view_seed(seed, epoch, -1, -1))
    return torch.randperm(n, generator=generator)


class EpochSampler(Sampler):
    """This rank's ``(epoch, index)`` pairs of an epoch: its consecutive share of every full global batch."""

    def __init__(self, n: int, *, global_batch: int, seed: int, rank: int = 0, world: int = 1):
        if global_batch % world:
            raise InputError(f"--batch-size {global_batch} is not divisible by the {world} processes",
                             hint=f"use a multiple of {world}")
        self.n, self.global_batch, self.seed, self.rank, self.world, self.epoch = n, global_batch, seed, rank, world, 0
        self.local = global_batch // world

    def steps(self) -> int:
        """Optimiser steps per epoch (full global batches)."""
        return self.n // self.global_batch

    def __len__(self) -> int:
        return self.steps() * self.local

    def __iter__(self):
        order = epoch_permutation(self.n, self.seed, self.epoch)
        for step in range(self.steps()):
            start = step * self.global_batch + self.rank * self.local
            yield from ((self.epoch, i) for i in order[start:start + self.local].tolist())


def make_loader(dataset: ViewDataset, sampler: EpochSampler, *, workers: int, pin_memory: bool) -> DataLoader:
    """A DataLoader over ``sampler``'s indices in batches of its per-rank size, ``workers`` processes.

    Workers persist across epochs: started once, they are not forked again from a process whose
    weights and optimiser state every step rewrites (each fork would make those writes copy pages).
    """
    return DataLoader(dataset, batch_size=sampler.local, sampler=sampler, num_workers=workers,
                      pin_memory=pin_memory, drop_last=True, persistent_workers=workers > 0,
                      prefetch_factor=4 if workers else None)
