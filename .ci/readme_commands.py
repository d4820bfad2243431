"""Print the two commands that open the README (the first fenced code block), one per line."""

import sys
from pathlib import Path


def readme_commands(path: str) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("```"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    return [line for line in lines[start + 1:end] if line.strip()]


if __name__ == "__main__":
    print("\n".join(readme_commands(sys.argv[1])))
