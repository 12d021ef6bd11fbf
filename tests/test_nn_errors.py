"""nn refuses bad input loudly: parameter trees with missing or misspelled keys name the
layer, the expected key and the keys found (with a suggestion); nn.fit rejects labels
out of range, non-finite losses, empty data and bad batch sizes; nn.predict on zero
examples returns an empty result of the right shape."""
import numpy as np
import pytest

import optax

import functorch_lite as fl
import nn

KEY = fl.random.PRNGKey(0)
X = np.ones((2, 4), np.float32)
MODEL = nn.Sequential(dense1=nn.Dense(3), block=nn.Sequential(proj=nn.Dense(2)))
PARAMS, _ = MODEL.init(KEY, X)


def _renamed(tree, path, new):
    tree = {k: dict(v) if isinstance(v, dict) else v for k, v in tree.items()}
    node = tree
    for k in path[:-1]:
        node[k] = dict(node[k])
        node = node[k]
    node[new] = node.pop(path[-1])
    return tree


KEY_MISTAKES = [
    # (params, layer named, missing key, where, did-you-mean)
    (_renamed(PARAMS, ("dense1",), "dens1"), "layer 'dense1' (Dense)", "dense1", "<root>",
     "did you mean 'dens1'?"),
    (_renamed(PARAMS, ("block", "proj"), "prj"), "layer 'block/proj' (Dense)", "proj",
     "block", "did you mean 'prj'?"),
    (_renamed(PARAMS, ("dense1", "kernel"), "kernal"), "layer 'dense1' (Dense)", "kernel",
     "dense1", "did you mean 'kernal'?"),
    (PARAMS["block"], "layer 'dense1' (Dense)", "dense1", "<root>", None),
]


@pytest.mark.parametrize("params,layer,key,where,hint", KEY_MISTAKES,
                         ids=["top", "nested", "leaf", "wrong_subtree"])
def test_a_missing_or_misspelled_parameter_key_names_the_layer(params, layer, key, where,
                                                                hint):
    with pytest.raises(KeyError) as info:
        MODEL(params, X)
    message = str(info.value)
    assert isinstance(info.value, nn.ParamsKeyError)
    assert layer in message and f"lack the key '{key}' at '{where}'" in message
    assert "found keys [" in message and "init returned" in message
    assert (hint in message) if hint else "did you mean" not in message


def test_a_missing_state_entry_names_the_layer():
    model = nn.Sequential(bn=nn.BatchNorm())
    params, state = model.init(KEY, X)
    with pytest.raises(nn.ParamsKeyError, match=r"layer 'bn' \(BatchNorm\) needs the state "
                                                r"'bn/mean'.*lacks the key 'bn' at "
                                                r"'<root>'.*did you mean 'b'\?"):
        model.apply(params, {"b": state["bn"]}, X)
