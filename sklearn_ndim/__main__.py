"""``python -m sklearn_ndim``: see :mod:`sklearn_ndim._cli`."""

import sys

from ._cli import main

sys.exit(main())
