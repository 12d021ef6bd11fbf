"""`nn`: stateless layers over functorch_lite, and Keras-like training with optax.

Layers hold hyperparameters only; parameters and state are plain nested dicts::

    import functorch_lite as fl, nn, optax
    model = nn.Sequential(conv=nn.Conv(16, 3), act=nn.ReLU(), pool=nn.MaxPool(2),
                          flat=nn.Flatten(), out=nn.Dense(10))
    params, state = model.init(fl.random.PRNGKey(0), x[:1])
    logits, state = model.apply(params, state, x, training=False)
    params, state, history = nn.fit(model, params, state, optax.adam(1e-3), (x, y),
                                    epochs=5, metrics=["accuracy"])

Activation functions (`nn.relu`, `nn.softmax`, ...) are those of `functorch_lite.nn`.
"""
import os as _os

import functorch_lite as _fl

# errors escaping nn's entry points (layer init/apply, fit) show the user's frames only
_fl.errors.register_exclusion(_os.path.dirname(_os.path.abspath(__file__)))

from . import initializers
from ._abstract import Spec, eval_shape
from ._layer import Layer
from ._policy import DtypePolicy, set_dtype_policy, dtype_policy
from ._scope import Scope, fold_name, ParamsKeyError
from ._linear import Dense, Embedding, Flatten
from ._conv import Conv, ConvTranspose, DepthwiseConv, SeparableConv
from ._wrappers import SpectralNorm, WeightNorm
from ._pooling import (MaxPool, AvgPool, GlobalAvgPool, GlobalMaxPool, max_pool,
                       avg_pool)
from ._normalization import BatchNorm, LayerNorm, GroupNorm, RMSNorm
from ._reshaping import UpSampling, ZeroPadding, Cropping
from ._elementwise import (Lambda, ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh, SiLU,
                           Softplus, Softmax, LogSoftmax, Dropout)
from ._attention import MultiHeadAttention
from ._attention_functions import dot_product_attention, causal_mask
from ._positional import (PositionalEmbedding, SinusoidalPositionalEmbedding,
                          RotaryEmbedding, sinusoidal_encoding, apply_rotary)
from ._recurrent import SimpleRNNCell, LSTMCell, GRUCell
from ._rnn import RNN, Bidirectional, SimpleRNN, LSTM, GRU
from ._combinators import Sequential, Residual
from ._losses import (softmax_cross_entropy, binary_cross_entropy_with_logits,
                      mean_squared_error, mean_absolute_error, huber_loss, kl_divergence,
                      one_hot, accuracy, top_k_accuracy, binary_accuracy)
from . import losses, metrics
from ._paths import (tree_paths, count_params, count_bytes, path_mask, path_labels,
                     freeze)
from ._summary import summary, Summary
from ._checkpoint import save, load, CheckpointError
from ._data import batches, Batches
from ._callbacks import (Callback, LambdaCallback, TerminateOnNaN, EarlyStopping,
                         ModelCheckpoint)
from ._history import History
from ._lr_callbacks import (ReduceLROnPlateau, LearningRateScheduler, LearningRateLogger,
                            get_learning_rate, set_learning_rate)
from ._log_callbacks import CSVLogger, TensorBoard
from ._backup import BackupAndRestore
from ._training import fit, evaluate, predict

mse = mean_squared_error

_ACTIVATIONS = ("relu", "relu6", "gelu", "sigmoid", "silu", "swish", "softplus", "elu",
                "leaky_relu", "softmax", "log_softmax", "log_sigmoid", "tanh",
                "hard_tanh", "celu", "selu", "glu", "logsumexp", "standardize")


def __getattr__(name):
    """Activation functions come from functorch_lite.nn (looked up on first use)."""
    if name in _ACTIVATIONS:
        import functorch_lite as fl
        if name == "tanh":
            return fl.numpy.tanh
        return getattr(fl.nn, name)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
