"""`functorch_lite.nn`: activation and utility functions, as `jax.nn`."""
