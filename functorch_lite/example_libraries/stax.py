"""`functorch_lite.example_libraries.stax`: JAX's stax neural-network library (layers as
(init_fun, apply_fun) pairs and their combinators) over functorch_lite."""
from ._stax import (Dense, GeneralConv, Conv, GeneralConvTranspose, Conv1DTranspose,
                    ConvTranspose, BatchNorm, elementwise, Tanh, Relu, Exp, LogSoftmax,
                    Softmax, Softplus, Sigmoid, Elu, LeakyRelu, Selu, Gelu, MaxPool,
                    SumPool, AvgPool, Flatten, Identity, FanOut, FanInSum, FanInConcat,
                    Dropout, serial, parallel, shape_dependent, glorot, randn, logsoftmax)
from ._initializers import glorot_normal, normal, ones, zeros
from ..nn import (relu, log_softmax, softmax, softplus, sigmoid, elu, leaky_relu, selu,
                  gelu, standardize)

__all__ = ["Dense", "GeneralConv", "Conv", "GeneralConvTranspose", "Conv1DTranspose",
           "ConvTranspose", "BatchNorm", "elementwise", "Tanh", "Relu", "Exp",
           "LogSoftmax", "Softmax", "Softplus", "Sigmoid", "Elu", "LeakyRelu", "Selu",
           "Gelu", "MaxPool", "SumPool", "AvgPool", "Flatten", "Identity", "FanOut",
           "FanInSum", "FanInConcat", "Dropout", "serial", "parallel", "shape_dependent",
           "glorot", "randn", "logsoftmax", "glorot_normal", "normal", "ones", "zeros",
           "relu", "log_softmax", "softmax", "softplus", "sigmoid", "elu", "leaky_relu",
           "selu", "gelu", "standardize"]
