"""checkpoint / remat: recompute a block's forward pass in the backward pass (in progress)."""


def checkpoint(fun, prevent_cse=True, policy=None, static_argnums=()):
    raise NotImplementedError("checkpoint is not implemented yet")


remat = checkpoint
