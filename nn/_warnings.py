"""Warnings attributed to the user's line, not to the `nn` frames that raise them."""
import os
import sys
import warnings

_NN_DIR = os.path.dirname(os.path.abspath(__file__))


def warn(message, category=UserWarning):
    """Warn, pointing at the first caller outside the `nn` package."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.dirname(os.path.abspath(
            frame.f_code.co_filename)) == _NN_DIR:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
