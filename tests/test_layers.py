"""The package's import graph follows its layers (the contract in pyproject.toml):
a module imports only from its own layer or those below; a lower layer that needs a
higher one's function gets it by registration."""
import pathlib

from importlinter import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_layer_contract_is_kept(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                            no_logo=True)
    report = capsys.readouterr().out
    assert code == cli.EXIT_STATUS_SUCCESS, report
    assert "1 kept, 0 broken" in report


def test_an_upward_import_breaks_the_contract(tmp_path, monkeypatch, capsys):
    """The check is live: the same contract with the interpreters importing the API
    layer (as `_partial_eval` once imported `_jit`) is reported broken."""
    config = (ROOT / "pyproject.toml").read_text().replace(
        '"_ad : _batching : _partial_eval",',
        '"_ad : _batching : _partial_eval : _jit",').replace(
        "_checkpoint : _jit : _chunking", "_checkpoint : _chunking")
    assert config != (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(config)
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = cli.lint_imports(config_filename=str(tmp_path / "pyproject.toml"),
                            no_cache=True, no_logo=True)
    assert code != cli.EXIT_STATUS_SUCCESS
    assert "functorch_lite._jit is not allowed to import" in capsys.readouterr().out
