"""Warnings attributed to the user's line, not to the `nn` frames that raise them."""
import os
import sys
import warnings

from functorch_lite._traceback_util import library_paths


def warn(message, category=UserWarning):
    """Warn, pointing at the first caller outside `nn` and functorch_lite."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            library_paths()):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
