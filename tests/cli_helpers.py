"""Run the CLI in-process and check the one-line error contract (``error: ... (hint: ...)``, exit 2)."""

from click.testing import CliRunner

from brainalign.cli import main


def run(*args):
    """Invoke ``brainalign ARGS...`` in-process; exceptions other than SystemExit propagate."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def error_line(result) -> str:
    """The single ``error:`` line of a failed command; asserts exit code 2, a hint and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "hint:" in lines[0], result.output
    return lines[0]
