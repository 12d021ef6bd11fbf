"""`functorch_lite.numpy.linalg`."""
