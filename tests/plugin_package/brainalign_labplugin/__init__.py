"""A lab's brainalign plugin: ``lab_pixels`` (a model), ``lab.V1`` (a benchmark) and ``lab-spikes`` (an importer)."""
