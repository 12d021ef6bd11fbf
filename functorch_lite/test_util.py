"""`functorch_lite.test_util`: gradient checks against finite differences (in progress)."""
