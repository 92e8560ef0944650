"""Mutation testing of the modules whose logic the suite must pin down (not run in CI).

    python3 bench/mutation.py                       # every module below
    python3 bench/mutation.py review/replacements.py configs/strategy.py
    python3 bench/mutation.py --list                # the modules and the tests that judge them

Tool: cosmic-ray (maintained, 8.x). It mutates the files on disk and runs an arbitrary test
command per mutant, which is what this project needs: the policy rules are judged by a pack
*subprocess* that imports the rule modules from disk, so a tool that swaps functions inside
the test process (mutmut 3's trampolines) would not reach them. Each run works in a scratch
copy of the tracked files, so the work tree is never mutated, and uses its own virtualenv
(.venv-mutation, from bench/requirements-mutation.txt) for cosmic-ray itself; the tests run
with the project's .venv.

Prints, per module: mutants, killed, survived, the score, and each survivor (file:line and the
operator) so it can be explained or killed. A timeout counts as killed (the mutant broke the
program badly enough to hang), as cosmic-ray reports it.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import PYTHON, ensure_virtualenv  # noqa: E402  (the project's own set-up code)

MUTATION_VENV = ROOT / ".venv-mutation"
REQUIREMENTS = "bench/requirements-mutation.txt"

# Module -> the tests that judge it (fast ones: each mutant runs them once).
POLICY_TESTS = "tests/policies/test_rules.py tests/policies/test_rule_boundaries.py tests/policies/test_config.py"
MODULES: dict[str, str] = {
    "configs/checks.py": "tests/configs/test_bad_input.py tests/configs/test_model.py",
    "configs/strategy.py": "tests/configs/test_strategy.py tests/configs/test_bad_input.py",
    "review/diff.py": "tests/review/test_replacements.py tests/review/test_golden.py",
    "review/replacements.py": "tests/review/test_replacements.py tests/review/test_golden.py",
    "review/cost.py": "tests/review/test_cost.py tests/review/test_golden.py",
    **{
        f"policies/{path.name}": POLICY_TESTS
        for path in sorted((ROOT / "policies").glob("*.py"))
        if path.name not in ("__init__.py", "__main__.py", "registry.py", "sdk_fastpath.py", "config_gen.py")
    },
}


def scratch_copy() -> Path:
    """The tracked files in a temporary folder, with the project's .venv linked in."""
    target = Path(tempfile.mkdtemp(prefix="mutation-"))
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, names.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def config_text(module: str, tests: str, timeout: float) -> str:
    command = f"{PYTHON} -m pytest -x -q -p no:cacheprovider {tests}"
    return (
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n'
        "\n[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def mutate_module(module: str, tests: str, workdir: Path, timeout: float) -> dict:
    tool = MUTATION_VENV / "bin" / "cosmic-ray"
    config, session = workdir / "cr.toml", workdir / f"{module.replace('/', '_')}.sqlite"
    config.write_text(config_text(module, tests, timeout))
    env = {k: v for k, v in os.environ.items() if k not in ("UPDATE_GOLDEN", "CI")}
    env["PYTHONPATH"] = str(workdir)
    for step in (["init", str(config), str(session)], ["exec", str(config), str(session)]):
        subprocess.run([str(tool), *step], cwd=workdir, env=env, check=True, capture_output=True)
    dump = subprocess.run([str(tool), "dump", str(session)], cwd=workdir, capture_output=True, text=True, check=True)
    return summarize(module, [json.loads(line) for line in dump.stdout.splitlines() if line.strip()])


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's type annotations are. With `from __future__ import annotations` they
    are never evaluated, so a mutant inside one (`tuple[str, ...] | str` -> `... + str`) cannot
    change behaviour: an equivalent mutant, reported apart and left out of the score."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        annotations = []
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annotations.append(node.returns)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in annotations]
    return spans


def summarize(module: str, records: list) -> dict:
    """cosmic-ray's dump is one [work_item, result] pair per mutant."""
    spans = annotation_spans(ROOT / module)
    lines = (ROOT / module).read_text().splitlines()
    survivors, equivalent, killed = [], [], 0
    for item, result in records:
        if result is None:
            continue
        mutation = item["mutations"][0]
        start = tuple(mutation["start_pos"])
        described = f"{module}:{start[0]}: {mutation['operator_name'].split('/')[-1]}: {lines[start[0] - 1].strip()}"
        if any(low <= start < high for low, high in spans):
            equivalent.append(described)
        elif result.get("test_outcome") == "survived":
            survivors.append(described)
        else:
            killed += 1
    judged = killed + len(survivors)
    return {"module": module, "mutants": judged + len(equivalent), "equivalent": len(equivalent), "killed": killed,
            "survived": len(survivors), "score": round(100 * killed / judged, 1) if judged else None,
            "survivors": survivors}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="paths under the project (default: every module in MODULES)")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant's test run")
    args = parser.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(f"{module}: {tests}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"not in MODULES: {', '.join(unknown)}")
    ensure_virtualenv()
    ensure_virtualenv(MUTATION_VENV, (REQUIREMENTS,), REQUIREMENTS)
    workdir = scratch_copy()
    try:
        print("| module | mutants | in annotations (equivalent) | killed | survived | score |")
        print("| --- | --- | --- | --- | --- | --- |")
        results = []
        for module in args.modules or list(MODULES):
            result = mutate_module(module, MODULES[module], workdir, args.timeout)
            results.append(result)
            print(f"| {module} | {result['mutants']} | {result['equivalent']} | {result['killed']} | {result['survived']} "
                  f"| {result['score']}% |", flush=True)
        for result in results:
            for survivor in result["survivors"]:
                print(f"survived: {survivor}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
