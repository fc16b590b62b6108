"""`parley` command line: serve, build, apps, operators, teams, triggers, snippet, database.

main() parses (parley.cli.parser), runs the command (one module per command group) and
turns what went wrong into one `parley: error: ...` line and an exit code.
"""

from __future__ import annotations

import os
import sys
import traceback

from parley import rules
from parley.cli.errors import CommandError, UsageError, first_line
from parley.cli.parser import parser
from parley.settings import ConfigError

__all__ = ["CommandError", "UsageError", "main", "parser"]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (rules.InvalidInput, ConfigError) as error:
        print(f"parley: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"parley: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # Whatever else goes wrong is still one line; PARLEY_DEBUG=1 shows where it came from.
        if os.environ.get("PARLEY_DEBUG"):
            traceback.print_exc()
        print(f"parley: error: {type(error).__name__}: {first_line(error)} "
              "(PARLEY_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
