"""brainalign's own architectures; importing this package registers them (one module per family)."""

from . import alexnet_bn64  # noqa: F401
from . import clapp_vgg6  # noqa: F401
from . import lcl_v2  # noqa: F401
from . import pixels  # noqa: F401
from . import simulated_cortex  # noqa: F401
from . import streamnet  # noqa: F401
from . import tang_amit_cnn  # noqa: F401
