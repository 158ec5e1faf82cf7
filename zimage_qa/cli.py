"""`zqa`: the command line. Each subcommand lives in its own module and is imported only when used.

A subcommand module (imported only when its subcommand runs) exposes `configure(parser)` (adds its arguments; must import nothing heavy)
and `run(args) -> int` (0 = the check holds, 1 = it fails). Bad input raises `QAUsageError`,
which becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from zimage_qa import __version__
from zimage_qa.errors import QAUsageError

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("zimage_qa.doctor", "print the environment fingerprint and what the gate can run here"),
    "compare": ("zimage_qa.golden.command", "compare a candidate image with a golden image"),
    "glyph-check": ("zimage_qa.glyphs.command", "OCR an image and check it shows the expected text"),
    "history": ("zimage_qa.history.command", "read pytest-benchmark saved runs and find regressions"),
    "gate": (
        "zimage_qa.fleet.command",
        "run the gate on several GPUs at once (one process per GPU) and merge the reports",
    ),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise QAUsageError(f"{message} (see '{self.prog} --help')")


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `selected` subcommand's module is imported and configured."""
    parser = _Parser(prog="zqa", description="zimage-qa: the Z-Image-Turbo regression and QA gate.")
    parser.add_argument("--version", action="version", version=f"zqa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            module = importlib.import_module(module_name)
            module.configure(child)
            child.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = list(sys.argv[1:] if argv is None else argv)
        selected = next((a for a in arguments if not a.startswith("-")), None)
        args = build_parser(selected if selected in SUBCOMMANDS else None).parse_args(arguments)
        return int(args._module.run(args))
    except QAUsageError as exc:
        print(f"zqa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zqa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
