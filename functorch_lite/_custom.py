"""custom_jvp and custom_vjp: user-defined derivative rules (in progress)."""


def custom_jvp(fun, nondiff_argnums=()):
    raise NotImplementedError("custom_jvp is not implemented yet")


def custom_vjp(fun, nondiff_argnums=()):
    raise NotImplementedError("custom_vjp is not implemented yet")
