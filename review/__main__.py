"""The offline review of an environment, no AWS account needed.

    python -m review plan ENV [--format text|markdown|json] [--details]
    python -m review diff BASE_REF ENV [--format ...]      # configs/ENV.yaml at BASE_REF vs the working tree
    python -m review diff --files OLD.yaml NEW.yaml [--format ...]   # each file's extends next to it
    python -m review render-preview PREVIEW.json [--event-log EVENTS.jsonl]   # the real engine's preview, same format
    python -m review affected BASE_REF [--github-output]   # JSON: the environments a change touches

Reports go to stdout; progress and config errors to stderr. Exit status: 0 done, 2 bad
input (the config report says what to fix), 3 a git ref or file that cannot be read, 4 a
mandatory policy violation remains in what would ship, or its estimate exceeds the budget
(after the full report is printed; `--policy report-only` keeps 0 for policy violations).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional

from configs.errors import ConfigError
from review.exit_status import BAD_INPUT, POLICY_MODES, UNREADABLE, exit_status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="review", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="validate configs/ENV.yaml and show what would be created, its policy verdict and cost")
    plan.add_argument("environment", help="dev, staging, prod, ... (reads configs/<ENV>.yaml)")
    plan.add_argument("--details", action="store_true", help="each resource's inputs under it (secrets masked); --format json always has them")
    diff = commands.add_parser("diff", help="compare the plans of two versions of an environment")
    diff.add_argument("args", nargs="*", metavar="BASE_REF ENV", help="a git ref (e.g. origin/main) and an environment")
    diff.add_argument("--files", nargs=2, metavar=("OLD", "NEW"), help="compare two environment files instead")
    preview = commands.add_parser("render-preview", help="the real engine's `pulumi preview --json` in the same format as the offline review")
    preview.add_argument("preview_json", metavar="PREVIEW_JSON", help="the output of pulumi preview --json (- for stdin)")
    preview.add_argument("--event-log", metavar="EVENTS", help="the preview's --event-log file: the policy violations (the JSON has none)")
    preview.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    affected = commands.add_parser("affected", help="the environments a change since BASE_REF touches, as JSON [{environment, region, tier}]")
    affected.add_argument("base_ref", metavar="BASE_REF", help="a git ref, e.g. origin/main")
    affected.add_argument("--github-output", action="store_true", help="`all=` and one line per tier for $GITHUB_OUTPUT, as `run.py environments` prints them")
    for command in (plan, diff):
        command.add_argument("--format", choices=("text", "markdown", "json"), default="text")
        command.add_argument("--no-policy", action="store_true", help="skip the policy pack (faster)")
        command.add_argument(
            "--policy", choices=POLICY_MODES, default="enforce", dest="policy_mode",
            help="enforce (default): exit 4 when a mandatory violation remains; report-only: print it and exit 0",
        )
        command.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "diff" and not args.files and len(args.args) != 2:
        parser.error("diff needs BASE_REF ENV, or --files OLD.yaml NEW.yaml")
    if args.command == "affected":
        return _affected(args.base_ref, github_output=args.github_output)
    if args.command == "render-preview":
        return _render_preview(args)

    from configs.loader import config_path, load_environment
    from review.progress import Progress
    from review.sources import RefError, environment_at
    from review.workflow import diff_report, plan_report
    from review.render import render_diff, render_plan

    progress = Progress(enabled=not args.quiet)
    try:
        if args.command == "plan":
            config = load_environment(config_path(args.environment), stack=args.environment)
            report = plan_report(config, policy=not args.no_policy, progress=progress)
            print(render_plan(report, args.format, details=args.details), flush=True)
            return exit_status(report.policy, policy_mode=args.policy_mode, budget=report.budget)
        if args.files:
            old, new = (Path(p) for p in args.files)
            labels = (str(old), str(new))
            with progress.step(f"validating {old} and {new}"):
                base, head = load_environment(old), load_environment(new)
        else:
            ref, environment = args.args
            labels = (ref, "working tree")
            with progress.step(f"validating configs/{environment}.yaml at {ref} and in the working tree"):
                base = environment_at(ref, environment)
                head = load_environment(config_path(environment), stack=environment)
            if base is None:
                labels = (f"{ref} (no configs/{environment}.yaml)", labels[1])
        report = diff_report(base, head, labels, policy=not args.no_policy, progress=progress)
        print(render_diff(report, args.format), flush=True)
        return exit_status(report.head.policy, policy_mode=args.policy_mode, budget=report.head.budget)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return BAD_INPUT
    except (RefError, FileNotFoundError) as error:
        print(f"review: {error}", file=sys.stderr)
        return UNREADABLE


def _render_preview(args: argparse.Namespace) -> int:
    """Exit 4 when the event log has a mandatory violation, as for the offline review."""
    import json

    from review.preview import preview_report
    from review.render import render_preview

    try:
        text = sys.stdin.read() if args.preview_json == "-" else Path(args.preview_json).read_text()
        events = Path(args.event_log).read_text().splitlines() if args.event_log else None
        report = preview_report(json.loads(text), events)
    except (OSError, ValueError) as error:
        print(f"review: cannot read the preview: {error}", file=sys.stderr)
        return UNREADABLE
    print(render_preview(report, args.format), flush=True)
    return exit_status(report.policy)


def _affected(base_ref: str, *, github_output: bool = False) -> int:
    import json

    from pipeline.environments import github_outputs
    from review.affected import affected, affected_targets
    from review.sources import RefError

    try:
        print(github_outputs(affected(base_ref)) if github_output else json.dumps(affected_targets(base_ref), indent=2))
        return 0
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return BAD_INPUT
    except RefError as error:
        print(f"review: {error}", file=sys.stderr)
        return UNREADABLE


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader went away (`... | head`): not a failure of the review. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
