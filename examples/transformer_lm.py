"""A tiny character-level transformer language model, written as custom `nn` layers.

    python examples/transformer_lm.py [--steps N] [--policy mixed_bfloat16]

`Block` and `CharTransformer` are frozen dataclasses whose sub-layers are attributes;
their parameters are nested dicts named after those attributes
("blocks/0/attn/query/kernel", ...). The train step is one jitted program: the loss
gradient, then optax's Adam update through `functorch_lite.interop.call_jax`.
`--policy mixed_bfloat16` builds the model under that dtype policy: computation in
bfloat16, parameters and the loss in float32, nothing else changes.
Prints the loss every 50 steps and a greedy sample; exits 1 if the loss did not fall.
"""
import argparse
import os
import sys
import time

import numpy as np
import optax

import functorch_lite as fl
import nn

TEXT = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
    "incredulity, it was the season of Light, it was the season of Darkness, it was "
    "the spring of hope, it was the winter of despair, we had everything before us, "
    "we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way. "
)
CHARS = sorted(set(TEXT))
DATA = np.array([CHARS.index(c) for c in TEXT], np.int32)


class Block(nn.Layer):
    """Pre-norm transformer block: causal self-attention and an MLP, both residual."""
    dim: int
    heads: int

    @property
    def ln1(self):
        return nn.LayerNorm()

    @property
    def attn(self):
        return nn.MultiHeadAttention(self.heads, causal=True)

    @property
    def ln2(self):
        return nn.LayerNorm()

    @property
    def mlp(self):
        return nn.Sequential(up=nn.Dense(4 * self.dim), act=nn.GELU(),
                             down=nn.Dense(self.dim))

    def forward(self, scope, x):
        x = x + scope.attn(scope.ln1(x))
        return x + scope.mlp(scope.ln2(x))


class CharTransformer(nn.Layer):
    """Token and learned position embeddings, `depth` blocks, a linear head."""
    vocab: int
    dim: int = 64
    heads: int = 4
    depth: int = 2
    max_len: int = 64

    @property
    def embed(self):
        return nn.Embedding(self.vocab, self.dim, nn.initializers.normal(0.02))

    @property
    def positions(self):
        return nn.PositionalEmbedding(self.max_len, nn.initializers.normal(0.02))

    @property
    def blocks(self):
        return tuple(Block(self.dim, self.heads) for _ in range(self.depth))

    @property
    def ln_f(self):
        return nn.LayerNorm()

    @property
    def head(self):
        return nn.Dense(self.vocab)

    def forward(self, scope, ids):
        x = scope.embed(ids)
        x = x + scope.positions(x)
        for block in scope.blocks:
            x = block(x)
        return scope.head(scope.ln_f(x))


def batches(rng, batch, length):
    while True:
        starts = rng.integers(0, len(DATA) - length - 1, batch)
        window = np.stack([DATA[s:s + length + 1] for s in starts])
        yield window[:, :-1], window[:, 1:]


def main(argv=None):
    quick = os.environ.get("FUNCTORCH_LITE_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150 if quick else 400)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=48)
    parser.add_argument("--policy", default="float32",
                        help="dtype policy, e.g. mixed_bfloat16 (default float32)")
    args = parser.parse_args(argv)

    with nn.set_dtype_policy(args.policy):
        model = CharTransformer(len(CHARS))
    params, _ = model.init(fl.random.PRNGKey(0), nn.Spec((args.batch, args.length), np.int32))
    print(f"{nn.count_params(params):,} parameters, vocabulary {len(CHARS)}")
    optimizer = optax.adam(3e-3)
    opt_state = optimizer.init(params)

    @fl.jit
    def train_step(params, opt_state, inputs, targets):
        loss_fn = lambda p: nn.softmax_cross_entropy(model(p, inputs), targets)
        loss, grads = fl.value_and_grad(loss_fn)(params)
        updates, opt_state = fl.interop.call_jax(optimizer.update, grads, opt_state, params)
        params = fl.tree_util.tree_map(lambda p, u: p + u, params, updates)
        return params, opt_state, loss

    data = batches(np.random.default_rng(0), args.batch, args.length)
    start, losses = time.perf_counter(), []
    for step in range(args.steps + 1):
        params, opt_state, loss = train_step(params, opt_state, *next(data))
        if step % 50 == 0:
            losses.append(float(loss))
            print(f"step {step:4d}  loss {losses[-1]:.3f}")
    print(f"{args.steps} steps in {time.perf_counter() - start:.1f} s "
          f"(uniform guessing: loss {np.log(len(CHARS)):.2f})")

    predict = fl.jit(lambda p, ids: model(p, ids)[0, -1].argmax())
    context = list(DATA[:args.length])
    for _ in range(80):
        context.append(int(predict(params, np.array([context[-args.length:]], np.int32))))
    print("greedy sample:", "".join(CHARS[i] for i in context[args.length:]))
    if not losses[-1] < 0.5 * losses[0]:
        print("FAILED: the loss did not fall by half", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
