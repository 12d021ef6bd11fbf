"""`functorch_lite.random`: a counter-based PRNG (threefry-2x32) (in progress)."""
