"""python -m pipeline environments [--github-output] | ci-role ENV [--format text|json]

environments: the environments the workflows run (configs/<name>.yaml with a Pulumi.<name>.yaml),
each with its region and tier, as JSON; `--github-output` prints `all=` and one line per tier
for $GITHUB_OUTPUT.
ci-role: the deploy role's ARN and app-deploy.yml's inputs per service, from `pulumi stack output
--json --stack ENV` (offline: placeholders, clearly marked) and configs/ENV.yaml.
Exit status 2 when an environment file cannot be read.
"""

from __future__ import annotations

import sys

from configs.errors import ConfigError


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("environments", "ci-role"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[0] == "ci-role":
            from pipeline import ci_role

            return ci_role.main(argv[1:])
        from pipeline import environments

        return environments.main(argv[1:])
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
