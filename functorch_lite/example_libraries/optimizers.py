"""`functorch_lite.example_libraries.optimizers`: JAX's example optimizers (init,
update, get_params triples over pytrees) and learning-rate schedules."""
from ._optimizers import (OptimizerState, Optimizer, optimizer, sgd, momentum, nesterov,
                          adagrad, rmsprop, rmsprop_momentum, adam, adamax, sm3, constant,
                          exponential_decay, inverse_time_decay, polynomial_decay,
                          piecewise_constant, make_schedule, l2_norm, clip_grads,
                          JoinPoint, unpack_optimizer_state, pack_optimizer_state)

__all__ = ["OptimizerState", "Optimizer", "optimizer", "sgd", "momentum", "nesterov",
           "adagrad", "rmsprop", "rmsprop_momentum", "adam", "adamax", "sm3", "constant",
           "exponential_decay", "inverse_time_decay", "polynomial_decay",
           "piecewise_constant", "make_schedule", "l2_norm", "clip_grads", "JoinPoint",
           "unpack_optimizer_state", "pack_optimizer_state"]
