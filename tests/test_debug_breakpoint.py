"""`debug.breakpoint` with a scripted debugger session (stdin replaced): it stops
with the caller's variables holding the values computed at that point, eagerly,
under jit, once per element under vmap, and with primal values under grad."""
import io
import sys

import numpy as np
import pytest

import functorch_lite as fl
import functorch_lite.numpy as fnp


def _f(x):
    y = fnp.sin(x)
    scale = 2.0
    fl.debug.breakpoint()
    return y * scale


def _session(monkeypatch, capsys, commands, run):
    monkeypatch.setattr(sys, "stdin", io.StringIO(commands))
    out = run()
    return out, capsys.readouterr().out


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_breakpoint_shows_values(monkeypatch, capsys, mode):
    f = _f if mode == "eager" else fl.jit(_f)
    out, text = _session(monkeypatch, capsys, "p float(y[1]) * scale\nc\n",
                         lambda: f(fnp.arange(3.0)))
    assert "Entering debug.breakpoint" in text and "(jdb)" in text
    assert repr(float(np.float32(np.sin(1.0))) * 2.0) in text
    np.testing.assert_allclose(out, 2 * np.sin(np.arange(3.0)), rtol=1e-6)


def test_breakpoint_under_vmap_and_grad(monkeypatch, capsys):
    _, text = _session(monkeypatch, capsys, "p x.shape\nc\n" * 3,
                       lambda: fl.jit(fl.vmap(_f))(fnp.arange(3.0)))
    assert text.count("Entering debug.breakpoint") == 3 and text.count("(jdb) ()") == 3
    g, text = _session(monkeypatch, capsys, "p float(x)\nc\n",
                       lambda: fl.grad(_f)(0.25))
    assert "0.25" in text
    assert float(g) == pytest.approx(2 * np.cos(0.25), rel=1e-6)


def test_ordered_breakpoint_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="ordered=False"):
        fl.debug.breakpoint(ordered=True)
