"""Which convolution form XLA's CPU backend runs fastest in the LeNet-5 training step:
NHWC/HWIO (what `nn.Conv` emits), NCHW/OIHW, or im2col as shifted slices and one
product, each in functorch_lite and JAX, max pooling tiled (reshape + reduce).

    python benchmarks/bench_conv_layouts.py [--batches 64 256] [--rounds 7]

Prints the median step time of every form, measured in alternation.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import table_models as tm  # noqa: E402
from bench_table import median_times, training  # noqa: E402

FORMS = ("NHWC", "NCHW", "slices")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    for batch in args.batches:
        params, data = tm.lenet_data(batch, np.random.RandomState(0))
        cases = [(m.name, form) for m in (tm.OURS, tm.JAX) for form in FORMS]
        fns = [training(tm.lenet(m, pool_as_reshape=m is tm.JAX, conv_form=form),
                        params, data) for m in (tm.OURS, tm.JAX) for form in FORMS]
        times = median_times(fns, args.rounds, 0.3)
        print(f"LeNet-5 batch {batch}: " + "  ".join(
            f"{lib} {form} {t * 1e3:.2f} ms" for (lib, form), t in zip(cases, times)),
            flush=True)


if __name__ == "__main__":
    main()
