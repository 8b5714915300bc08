"""`python -m cnnviz`."""

from __future__ import annotations

import sys

from cnnviz.cli import main

sys.exit(main())
