"""A lab's brainalign plugin: ``lab_pixels`` (a model) and ``lab.V1`` (a benchmark)."""
