"""The package's import graph follows its layers (the contract in pyproject.toml):
a module imports only from its own layer or those below; a lower layer that needs a
higher one's function gets it by registration."""
import ast
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# import-linter's command line, run in a child process (it writes to the terminal)
LINT = "import sys; from importlinter.cli import lint_imports_command; " \
       "sys.exit(lint_imports_command())"


def lint_imports(config):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", LINT, "--config", str(config),
                           "--no-cache"], cwd=ROOT, env=env, capture_output=True,
                          text=True)


def test_layer_contract_is_kept():
    result = lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The check is live: the same contract with jit moved down among the interpreters
    (so its imports of the API layer run upward) is reported broken."""
    config = (ROOT / "pyproject.toml").read_text().replace(
        '"_ad : _batching : _partial_eval",',
        '"_ad : _batching : _partial_eval : _jit",').replace(
        "_checkpoint : _jit : _chunking", "_checkpoint : _chunking")
    assert config != (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(config)
    result = lint_imports(tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "functorch_lite._jit is not allowed to import" in result.stdout


def _function_local_imports():
    """(path, line, text, previous line) of every import inside a function."""
    found = []
    for path in sorted((ROOT / "functorch_lite").rglob("*.py")):
        lines = path.read_text().splitlines()

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                    found.append((path.relative_to(ROOT), child.lineno,
                                  lines[child.lineno - 1], lines[child.lineno - 2]))
                visit(child, in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef)))
        visit(ast.parse("\n".join(lines)), False)
    return found


def test_function_local_imports_are_few_and_say_why():
    """An import inside a function only where a module-level one would close an import
    cycle (or the dependency is optional), with a comment saying which."""
    found = _function_local_imports()
    assert len(found) <= 20, "\n".join(f"{p}:{n}: {text.strip()}" for p, n, text, _ in found)
    silent = [f"{p}:{n}: {text.strip()}" for p, n, text, before in found
              if "#" not in text and not before.strip().startswith("#")]
    assert not silent, "function-local imports without a comment:\n" + "\n".join(silent)
