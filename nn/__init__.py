"""nn: a stateless layer library on functorch_lite (in progress)."""
