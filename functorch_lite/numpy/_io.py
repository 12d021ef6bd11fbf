"""Arrays from and to files and buffers, through NumPy (host side, outside any
transformation): save, savez, load, frombuffer, fromstring, from_dlpack; fromfile and
fromiter raise as in jax.numpy (they consume their source, which is not pure)."""

__all__ = ["save", "savez", "load", "frombuffer", "fromstring", "fromfile", "fromiter",
           "from_dlpack"]
import numpy as np
from jax import dlpack

from .. import _dtypes
from ._util import asarray

save = np.save
savez = np.savez


def load(file, *args, **kwargs):
    """np.load (pickles refused unless allow_pickle=True is passed), with arrays
    returned as device arrays; bfloat16 arrays saved by NumPy come back as bfloat16."""
    out = np.load(file, *args, **kwargs)
    if isinstance(out, np.ndarray):
        if out.dtype == "V2":
            out = out.view(_dtypes.bfloat16)
        try:
            out = asarray(out)
        except TypeError:  # a dtype arrays cannot have (e.g. strings): stays NumPy
            pass
    return out


def frombuffer(buffer, dtype=float, count=-1, offset=0):
    """An array from the bytes of a buffer (np.frombuffer, then on the device)."""
    return asarray(np.frombuffer(buffer=buffer, dtype=dtype, count=count, offset=offset))


def fromstring(string, dtype=float, count=-1, *, sep):
    """An array from text numbers separated by `sep`."""
    return asarray(np.fromstring(string=string, dtype=dtype, count=count, sep=sep))


def _impure(name):
    raise NotImplementedError(
        f"jnp.{name}() is not implemented because it may be non-pure and thus unsafe for "
        f"use with jit and other transformations. Use jnp.asarray(np.{name}(...)) outside "
        f"the transformed function instead.")


def fromfile(*args, **kwargs):
    """Not implemented (impure): use jnp.asarray(np.fromfile(...)) outside jit."""
    _impure("fromfile")


def fromiter(*args, **kwargs):
    """Not implemented (impure): use jnp.asarray(np.fromiter(...)) outside jit."""
    _impure("fromiter")


def from_dlpack(x, /, *, device=None, copy=None):
    """An array sharing memory with a DLPack-exporting object (e.g. a torch tensor)."""
    return dlpack.from_dlpack(x, device=device, copy=copy)
