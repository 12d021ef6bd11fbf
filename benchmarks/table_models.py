"""The training steps of the GPU benchmark table, each written once over a namespace
(`OURS` = functorch_lite, `JAX` = jax), plus the same MLP and LeNet steps in PyTorch.

Every step is `step(params, *batch) -> (params, loss)`, plain SGD, so the two
libraries run the same arithmetic and the timing compares their programs.
"""
import types

import numpy as np
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp

OURS = types.SimpleNamespace(np=fnp, nn=fl.nn, lax=fl.lax, grad=fl.value_and_grad,
                             jit=fl.jit, name="functorch_lite")
JAX = types.SimpleNamespace(np=jnp, nn=jax.nn, lax=jax.lax, grad=jax.value_and_grad,
                            jit=jax.jit, name="jax")
LR = 0.01


def _sgd(m, loss):
    def step(params, *batch):
        value, grads = m.grad(loss)(params, *batch)
        return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads), value
    return m.jit(step, donate_argnums=0)


def _cross_entropy(m, logits, labels):
    logp = m.nn.log_softmax(logits.astype(np.float32))
    return -m.np.mean(m.np.take_along_axis(logp, labels[:, None], axis=1))


# --- MLP -----------------------------------------------------------------------------

def mlp(m, sizes):
    def loss(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = m.nn.relu(h)
        return _cross_entropy(m, h, y)
    return _sgd(m, loss)


def mlp_data(sizes, batch, rng):
    params = [(rng.randn(a, b).astype(np.float32) / np.float32(np.sqrt(a)),
               np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    return params, (rng.randn(batch, sizes[0]).astype(np.float32),
                    rng.randint(0, sizes[-1], batch).astype(np.int32))


# --- LeNet-5 (28x28x1) -----------------------------------------------------------------

def lenet(m, pool_as_reshape=False, conv_form="NHWC"):
    """`pool_as_reshape`: write the 2x2 max pooling as reshape + max (the form that
    runs fastest on XLA's CPU backend when written by hand in JAX; its gradient splits
    ties between the maxima where `reduce_window`'s goes to the first). `conv_form`:
    the convolutions as NHWC/HWIO (default), NCHW/OIHW (transposed around them) or
    "slices" (im2col: the kernel's shifted slices concatenated, then one product)."""
    def pool(h):
        if pool_as_reshape:
            n, hh, ww, c = h.shape
            return m.np.max(h.reshape(n, hh // 2, 2, ww // 2, 2, c), axis=(2, 4))
        return m.lax.reduce_window(h, -np.inf, m.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                   "VALID")

    def conv(x, w, padding):
        if conv_form == "NCHW":
            return m.lax.conv_general_dilated(x.transpose(0, 3, 1, 2), w.transpose(
                3, 2, 0, 1), (1, 1), padding).transpose(0, 2, 3, 1)
        if conv_form == "slices":
            kh, kw, ci, co = w.shape
            if padding == "SAME":
                x = m.np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
            h, w_ = x.shape[1] - kh + 1, x.shape[2] - kw + 1
            patches = m.np.concatenate([x[:, i:i + h, j:j + w_] for i in range(kh)
                                        for j in range(kw)], axis=-1)
            return patches @ w.reshape(kh * kw * ci, co)
        return m.lax.conv_general_dilated(x, w, (1, 1), padding,
                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def loss(p, x, y):
        h = m.nn.relu(conv(x, p["c1"], "SAME") + p["b1"])
        h = pool(h)
        h = m.nn.relu(conv(h, p["c2"], "VALID") + p["b2"])
        h = pool(h).reshape(x.shape[0], -1)
        h = m.nn.relu(h @ p["f1"] + p["g1"])
        h = m.nn.relu(h @ p["f2"] + p["g2"])
        return _cross_entropy(m, h @ p["f3"] + p["g3"], y)
    return _sgd(m, loss)


def lenet_data(batch, rng):
    w = lambda *s: (rng.randn(*s) / np.sqrt(np.prod(s[:-1]))).astype(np.float32)
    z = lambda n: np.zeros(n, np.float32)
    params = {"c1": w(5, 5, 1, 6), "b1": z(6), "c2": w(5, 5, 6, 16), "b2": z(16),
              "f1": w(400, 120), "g1": z(120), "f2": w(120, 84), "g2": z(84),
              "f3": w(84, 10), "g3": z(10)}
    return params, (rng.rand(batch, 28, 28, 1).astype(np.float32),
                    rng.randint(0, 10, batch).astype(np.int32))


# --- a ResNet-style block (32x32x16) ---------------------------------------------------

def resnet_block(m):
    """conv3x3-batchnorm-relu-conv3x3-batchnorm + identity, relu, then global average
    pooling and a dense classifier (batch statistics: a training step)."""
    def conv_bn(h, w, scale, bias):
        h = m.lax.conv_general_dilated(h, w, (1, 1), "SAME",
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
        mean = m.np.mean(h, (0, 1, 2))
        var = m.np.mean(m.np.square(h - mean), (0, 1, 2))
        return (h - mean) * m.lax.rsqrt(var + 1e-5) * scale + bias

    def loss(p, x, y):
        h = m.nn.relu(conv_bn(x, p["w1"], p["s1"], p["b1"]))
        h = m.nn.relu(conv_bn(h, p["w2"], p["s2"], p["b2"]) + x)
        return _cross_entropy(m, m.np.mean(h, (1, 2)) @ p["head"], y)
    return _sgd(m, loss)


def resnet_block_data(batch, size, channels, rng):
    w = lambda *s: (rng.randn(*s) / np.sqrt(np.prod(s[:-1]))).astype(np.float32)
    one, zero = (lambda: np.ones(channels, np.float32)), (lambda: np.zeros(channels,
                                                                           np.float32))
    params = {"w1": w(3, 3, channels, channels), "s1": one(), "b1": zero(),
              "w2": w(3, 3, channels, channels), "s2": one(), "b2": zero(),
              "head": w(channels, 10)}
    return params, (rng.randn(batch, size, size, channels).astype(np.float32),
                    rng.randint(0, 10, batch).astype(np.int32))


# --- a pre-LayerNorm transformer language model ---------------------------------------

def transformer(m, heads, dtype, attention):
    """`dtype` is the compute type (float32, or bfloat16 for mixed precision: f32
    master weights, bf16 products, f32 layer norms, softmax and loss)."""
    def layer_norm(x, scale, bias):
        x = x.astype(np.float32)
        mean = m.np.mean(x, -1, keepdims=True)
        var = m.np.mean(m.np.square(x - mean), -1, keepdims=True)
        return ((x - mean) * m.lax.rsqrt(var + 1e-5) * scale + bias).astype(dtype)

    def loss(p, tokens, targets):
        B, T = tokens.shape
        d = p["embed"].shape[1]
        c = lambda w: w.astype(dtype)
        h = (m.np.take(p["embed"], tokens, axis=0) + p["pos"][:T]).astype(dtype)
        for layer in p["layers"]:
            x = layer_norm(h, layer["ln1"], layer["ln1_b"])
            qkv = (x @ c(layer["qkv"])).reshape(B, T, 3, heads, d // heads)
            a = m.nn.dot_product_attention(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2],
                                           is_causal=True, implementation=attention)
            h = h + a.reshape(B, T, d) @ c(layer["out"])
            x = layer_norm(h, layer["ln2"], layer["ln2_b"])
            u = m.nn.gelu(x @ c(layer["up"]) + c(layer["up_b"]))
            h = h + u @ c(layer["down"]) + c(layer["down_b"])
        logits = layer_norm(h, p["ln_f"], p["ln_f_b"]) @ c(p["head"])
        return _cross_entropy(m, logits.reshape(B * T, -1), targets.reshape(-1))
    return _sgd(m, loss)


def transformer_data(vocab, d, layers, seq, batch, rng):
    w = lambda *s: (rng.randn(*s) * 0.02).astype(np.float32)
    one, zero = (lambda n: np.ones(n, np.float32)), (lambda n: np.zeros(n, np.float32))
    params = {"embed": w(vocab, d), "pos": w(seq, d), "ln_f": one(d), "ln_f_b": zero(d),
              "head": w(d, vocab),
              "layers": [{"ln1": one(d), "ln1_b": zero(d), "qkv": w(d, 3 * d),
                          "out": w(d, d), "ln2": one(d), "ln2_b": zero(d),
                          "up": w(d, 4 * d), "up_b": zero(4 * d), "down": w(4 * d, d),
                          "down_b": zero(d)} for _ in range(layers)]}
    tokens = rng.randint(0, vocab, (batch, seq + 1)).astype(np.int32)
    return params, (tokens[:, :-1], tokens[:, 1:])


def transformer_flops(vocab, d, layers, seq, batch):
    """Model FLOPs of one training step (forward and backward): 6 per parameter of
    the products per token, plus the attention scores and values (PaLM's count)."""
    product_params = layers * 12 * d * d + d * vocab
    return 6 * product_params * batch * seq + 12 * layers * batch * seq * seq * d


# --- PyTorch (eager) -----------------------------------------------------------------

def torch_steps(mlp_sizes, mlp_batch, lenet_batch, cpu=False):
    """{name: (step, args)} of the PyTorch MLP and LeNet steps on its GPU (with `cpu`:
    on the CPU when no GPU is present, the LeNet in channels_last), or {} when torch
    or the device is missing."""
    try:
        import torch
    except ImportError:
        return {}
    if not (torch.cuda.is_available() or cpu):
        return {}
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    layout = torch.channels_last if dev.type == "cpu" else torch.contiguous_format
    F = torch.nn.functional

    def sgd_step(model, loss_fn):
        def step(x, y):
            model.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= LR * p.grad
            return loss
        return step

    layers = []
    for i, (a, b) in enumerate(zip(mlp_sizes[:-1], mlp_sizes[1:])):
        layers += [torch.nn.Linear(a, b)] + ([torch.nn.ReLU()] if i < len(mlp_sizes) - 2
                                             else [])
    mlp_model = torch.nn.Sequential(*layers).to(dev)
    lenet_model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10)).to(
            dev, memory_format=layout)
    data = lambda *shape: torch.randn(*shape, device=dev)
    labels = lambda n: torch.randint(0, 10, (n,), device=dev)
    return {"mlp": (sgd_step(mlp_model, F.cross_entropy),
                    (data(mlp_batch, mlp_sizes[0]), labels(mlp_batch))),
            "lenet": (sgd_step(lenet_model, F.cross_entropy),
                      (data(lenet_batch, 1, 28, 28).to(memory_format=layout),
                       labels(lenet_batch))),
            "sync": torch.cuda.synchronize if dev.type == "cuda" else (lambda: None),
            "version": torch.__version__}
