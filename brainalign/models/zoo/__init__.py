"""brainalign's own architectures; importing this package registers them (one module per family)."""

from . import alexnet_bn64  # noqa: F401
from . import pixels  # noqa: F401
from . import simulated_cortex  # noqa: F401
