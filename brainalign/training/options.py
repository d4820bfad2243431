"""The names of ``brainalign train``'s option values, importable without torch (the CLI lists them)."""

#: Autocast precision of training: ``auto`` is bf16 on CUDA (fp16 + GradScaler without bf16), fp32
#: on a CPU (:func:`brainalign.training.trainer.train`).
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
