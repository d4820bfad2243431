"""The README opens with exactly the two commands that CI runs."""

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.readme_commands(ROOT / "README.md")


def test_readme_opens_with_two_commands_install_demo_and_install_test():
    commands = _readme_commands()
    assert len(commands) == 2
    install_demo, install_test = commands
    assert "pip install" in install_demo and install_demo.endswith("brainalign demo")
    assert "pip install" in install_test and '".[test]"' in install_test and "pytest" in install_test
    text = (ROOT / "README.md").read_text()
    assert text.index("```") < text.index("brainalign measures")  # the commands come first


def test_ci_runs_exactly_the_readme_commands():
    printed = subprocess.run(["python3", str(ROOT / ".ci" / "readme_commands.py"), str(ROOT / "README.md")],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert printed == _readme_commands()
    script = (ROOT / ".ci" / "run").read_text()
    assert "readme_commands.py README.md" in script and 'bash -c "$command"' in script


def test_ci_runs_the_tests_again_without_the_real_data():
    """The README's test command must pass on a fresh clone, without ../shared/data (tests/conftest.py)."""
    script = (ROOT / ".ci" / "run").read_text()
    after = script[script.index('bash -c "$command"'):]
    assert 'no_data="$(mktemp -d)"' in after
    assert 'BRAINALIGN_SHARED_DATA="$no_data" .venv/bin/python -m pytest' in after
