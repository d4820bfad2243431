"""Training: SSL objectives, layer-local learning rules, the training loop and its checkpoints.

- :mod:`.objectives`: the :class:`~.objectives.Objective` interface and registry; SSL objectives
  of Nayebi et al. 2023 (``contrastive``, ``siamese``, ``pretext``) and the layer-local rules.
- :mod:`.augment`: seeded views; :mod:`.data`: training images (``sim``, folders, zips), the
  epoch sampler and the data loader; :mod:`.recipe`: published -> used recipe, optimiser,
  schedule; :mod:`.checkpoints`: the run folder; :mod:`.trainer`: the loop (resume, AMP, DDP);
  :mod:`.options`: the names of the option values, and :mod:`.catalog`: the objectives as the
  help lists them, both without torch.

Imports point down only: ``training`` uses ``models`` and ``stimuli``; nothing below imports it.
The API (:func:`brainalign.api.train`) adds scoring as it learns.
"""
