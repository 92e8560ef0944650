"""`python -m review plan ENV`: the offline plan of an environment, no AWS account needed."""

from __future__ import annotations

import argparse
import sys

from configs.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="review", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="validate configs/ENV.yaml and print what would be created")
    plan.add_argument("environment", help="dev, staging, prod, ... (reads configs/<ENV>.yaml)")
    args = parser.parse_args(argv)

    from review.plan import plan_environment, render_text

    try:
        result = plan_environment(args.environment)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return 2
    print(render_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
