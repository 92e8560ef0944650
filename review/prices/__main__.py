"""Price tables: `python3 run.py prices refresh REGION [--template REGION]`.

Rebuilds review/prices/REGION.json from the AWS Price List API (needs AWS credentials with
pricing:GetProducts). A region without a file is built from the template region's rates.
Exit status: 0 written, 3 no credentials or no template, 4 written but some rates kept their
old figure (listed on stderr).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Optional

from review.prices import available_regions, load_prices, table_path
from review.prices.refresh import pricing_client, refresh_table, region_name


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="prices", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="rebuild review/prices/REGION.json from the AWS Price List API")
    refresh.add_argument("region")
    refresh.add_argument("--template", help="the region whose rates to look up (default: REGION's own file, else eu-west-1)")
    args = parser.parse_args(argv)

    template_region = args.template or (args.region if args.region in available_regions() else "eu-west-1")
    template = load_prices(template_region)
    client = pricing_client()
    if client is None:
        print("prices: no AWS credentials; configure a profile or AWS_ACCESS_KEY_ID with pricing:GetProducts and run again", file=sys.stderr)
        return 3
    name = template.region_name if template_region == args.region else region_name(client, args.region)
    result = refresh_table(client, template, args.region, name, datetime.date.today().isoformat())
    path = table_path(args.region)
    path.write_text(json.dumps(result.table.to_json(), indent=1) + "\n")
    print(f"wrote {path} ({len(result.table.rates)} rates)")
    for problem in result.problems:
        print(f"  ! {problem}", file=sys.stderr)
    return 4 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
