"""A lab's brainalign plugin: ``lab_pixels`` (a model), ``lab.V1`` (a benchmark), ``lab-spikes`` (an importer),
``lstsq`` (a regression) and ``lab`` (a checkpoint format)."""
