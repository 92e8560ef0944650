"""Mutation testing of the modules whose logic the suite must pin down (not run in CI).

    python3 bench/mutation.py                       # every module below
    python3 bench/mutation.py review/replacements.py configs/strategy.py
    python3 bench/mutation.py --list                # the modules and the tests that judge them
    python3 bench/mutation.py --sample 50 policies/iam.py   # a seeded uniform sample of 50 mutants

Two maintained tools, each where it fits:
- mutmut 3 (the default for configs/checks.py, review/diff.py, review/cost.py and the pack's
  rule modules): it forks one warm test process per mutant and runs only the tests that reach
  the mutated function, a fraction of a second per mutant where a new interpreter costs 2-3 s
  of CPU before the first test. It sees only the test process, so the policy tests call the
  pack's own servicer in-process for it (POLICY_PACK_IN_PROCESS=1, tests/policies/in_process.py).
  Its own virtualenv .venv-mutmut (bench/requirements-mutmut.txt) sees the project's packages
  through a .pth line.
- cosmic-ray 8 (configs/strategy.py, review/replacements.py, or any module with --tool
  cosmic-ray): it mutates the file on disk and runs any test command per mutant, so it also
  judges a module through the real pack subprocess; in .venv-mutation
  (bench/requirements-mutation.txt), the tests with the project's .venv.
Each run works in a scratch copy of the tracked files, so the work tree is never mutated.

Prints, per module: mutants, killed, survived, the score, and each survivor (file:line and the
operator) so it can be explained or killed. A timeout counts as killed (the mutant broke the
program badly enough to hang), as cosmic-ray reports it.

Equivalent mutants, decided from the code before any test runs, are counted in the table's
`equivalent` column and left out of the sample and the score:
- cosmic-ray: mutants inside type annotations (never evaluated under `from __future__ import
  annotations`);
- mutmut: a mutant whose only change is the letter case of a string constant given, in a
  case-blind position, to a lookup that compares it case-insensitively
  (`element(statement, "Sid")` -> `"SID"`: IAM element names and condition keys). Which
  parameters are case-blind is derived from the package's code (every use is `.lower()`,
  `.casefold()`, `.upper()` or passing it on to such a parameter); see case_equivalents.
  helpers.get is case-sensitive, so a key it reads in another case stays a mutant to kill.
`--sample N` then runs a uniform random sample of N of the remaining mutants (seeded by
`--seed`, drawn from the mutants sorted by name or position, so the same source and seed give
the same sample); the score is then a sample's score and the table says so. Run one module at a time, niced: each mutant re-runs the
judging tests, and the machine is shared.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shlex
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
MUTMUT_VENV = ROOT / ".venv-mutmut"
MUTMUT_REQUIREMENTS = "bench/requirements-mutmut.txt"

# Judged by tests that reach them in the test process, so mutmut 3 can run them (see
# mutmut_module). The pack's rules are, with POLICY_PACK_IN_PROCESS=1 (tests/policies/in_process.py).
MUTMUT_MODULES = ("configs/checks.py", "review/diff.py", "review/cost.py")
MUTMUT_PREFIXES = ("policies/",)

# Module -> the tests that judge it (fast ones: each mutant runs them once).
# The pack's rules: every policy test file that judges them in the test process. mutmut forks
# the process that ran the tests once, and threads do not survive a fork, so a test that runs
# the Pulumi program anew (run_program, plan_of) or starts a pack of its own over gRPC hangs in
# the forked child: such tests are deselected here and their files (test_governance.py,
# test_client_pipeline.py, test_sdk_fastpath.py, test_endpoint_needs.py, whose module fixture
# plans) left out. Plans cached before the fork (reference_plan, test_property_dependencies'
# stack()) are fine. Edge cases written to kill mutants live in test_*_edges.py, found by name.
POLICY_TEST_FILES = (
    "test_rules.py", "test_rule_boundaries.py", "test_config.py", "test_pack_internals.py", "test_containers.py",
    "test_controls.py", "test_delivery_rules.py", "test_workload_rules.py", "test_efs_rules.py",
    "test_service_connect_rule.py", "test_environments.py", "test_property_dependencies.py",
)
POLICY_TESTS_DESELECTED = (
    "test_efs_rules.py::test_prod_with_efs_volumes_on_services_and_a_job_passes_the_pack",
    "test_environments.py::test_the_insecure_environment_fails_with_the_expected_violations",
    "test_property_dependencies.py::test_a_secret_injected_by_its_partial_arn_is_read_through_the_documented_suffix",
)
# The pure tests of files otherwise left out: waiver scopes and ancestors (policies/framework.py).
POLICY_TESTS_SELECTED = (
    "test_governance.py::test_a_waiver_covers_what_is_registered_under_its_component",
    "test_governance.py::test_an_analyze_request_tells_the_parent_and_the_types_above_it",
)
POLICY_TESTS = " ".join(
    [f"tests/policies/{name}" for name in POLICY_TEST_FILES]
    + [f"tests/policies/{test}" for test in POLICY_TESTS_SELECTED]
    + sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests/policies").glob("test_*_edges.py"))
    + [f"--deselect=tests/policies/{test}" for test in POLICY_TESTS_DESELECTED]  # one argument each: main() merges the modules' arguments
)
MODULES: dict[str, str] = {
    # In-process loader tests only: the CLI subprocess tests of test_bad_input judge the entry
    # point, not the checks, and cost seconds a mutant.
    "configs/checks.py": (
        "tests/configs/test_bad_input.py tests/configs/test_aws_limits.py tests/configs/test_one_report.py "
        "tests/configs/test_connects_to.py tests/configs/test_references.py tests/configs/test_iam_refusals.py "
        "tests/configs/test_secret_values.py tests/configs/test_workloads.py tests/configs/test_every_container.py "
        "tests/configs/test_governance.py tests/configs/test_model.py tests/configs/test_gpu.py "
        "-k 'not test_review_cli_reports_bad_input and not test_entry_point_prints_the_report'"
    ),
    "configs/strategy.py": "tests/configs/test_strategy.py tests/configs/test_bad_input.py",
    # mutmut forks the process that ran the tests once. Threads do not survive a fork: a test
    # that runs the Pulumi program anew (its runtime's thread pools) or talks to the pack over
    # gRPC hangs in the forked child. The goldens named here use only lru-cached plans and
    # verdicts (filled before the fork), so they stay; tests that plan an edited environment
    # (plan_of(edited(...))) do not, and may still catch a survivor: the score is a floor.
    # (process_isolation=forkserver avoids the hang but re-plans per mutant: ~40 s a mutant here.)
    "review/diff.py": "tests/review/test_replacements.py tests/review/test_golden.py::test_diff_golden",
    "review/replacements.py": "tests/review/test_replacements.py tests/review/test_golden.py",
    "review/cost.py": (
        "tests/review/test_cost.py tests/review/test_cost_jobs.py "
        "tests/review/test_golden.py::test_plan_golden tests/review/test_golden.py::test_diff_golden "
        + " ".join(f"--deselect tests/review/test_cost_jobs.py::{name}" for name in (
            "test_job_lines_are_in_the_plans_range_and_text", "test_the_review_diff_shows_the_job_as_a_new_component",
            "test_the_whole_estimate_adds_the_job_lines_once", "test_task_storage_is_not_offered_as_a_spot_saving"))
    ),
    **{
        f"policies/{path.name}": POLICY_TESTS
        for path in sorted((ROOT / "policies").glob("*.py"))
        if path.name not in ("__init__.py", "__main__.py", "registry.py", "sdk_fastpath.py", "config_gen.py")
    },
}


def tracked_files() -> list[str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in names.split("\0") if name and (ROOT / name).is_file()]


def scratch_copy(link_venv: bool = True) -> Path:
    """The tracked files in a temporary folder, with the project's .venv linked in."""
    target = Path(tempfile.mkdtemp(prefix="mutation-"))
    for name in tracked_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    if link_venv:
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


# Runs inside .venv-mutation (cosmic-ray's API): marks as skipped every mutant not to be run.
# argv: session, the annotation spans (JSON), the sample size (0: all), the seed.
SELECT_MUTANTS = """
import json, random, sys
from cosmic_ray.work_db import use_db, WorkDB
from cosmic_ray.work_item import WorkResult, WorkerOutcome
session, spans, size, seed = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def in_annotation(start):
    return any(tuple(low) <= start < tuple(high) for low, high in spans)
def skip(db, job_id, why):
    db.set_result(job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=why))
with use_db(session, WorkDB.Mode.open) as db:
    items = sorted(db.pending_work_items, key=lambda item: [(tuple(m.start_pos), m.operator_name, m.occurrence) for m in item.mutations])
    runnable = []
    for item in items:
        if in_annotation(tuple(item.mutations[0].start_pos)):
            skip(db, item.job_id, "equivalent: inside an annotation")
        else:
            runnable.append(item)
    if 0 < size < len(runnable):
        chosen = {item.job_id for item in random.Random(seed).sample(runnable, size)}
        for item in runnable:
            if item.job_id not in chosen:
                skip(db, item.job_id, "not in the sample")
"""


def mutate_module(module: str, tests: str, workdir: Path, timeout: float, sample: int, seed: int) -> dict:
    tool = MUTATION_VENV / "bin" / "cosmic-ray"
    config, session = workdir / "cr.toml", workdir / f"{module.replace('/', '_')}.sqlite"
    config.write_text(config_text(module, tests, timeout))
    env = {k: v for k, v in os.environ.items() if k not in ("UPDATE_GOLDEN", "CI")}
    env["PYTHONPATH"] = str(workdir)
    run = lambda *args: subprocess.run([*map(str, args)], cwd=workdir, env=env, check=True, capture_output=True, text=True)  # noqa: E731
    run(tool, "init", config, session)
    run(MUTATION_VENV / "bin" / "python", "-c", SELECT_MUTANTS, session, json.dumps(annotation_spans(ROOT / module)), sample, seed)
    run(tool, "exec", config, session)
    dump = run(tool, "dump", session)
    return summarize(module, [json.loads(line) for line in dump.stdout.splitlines() if line.strip()])


# mutmut 3 ------------------------------------------------------------------------------------
# It writes every mutant of a function into one copy of the module behind a trampoline, runs the
# suite once to learn which tests call which function, then per mutant forks its own process
# (imports, collected tests and lru_caches already warm) and runs only the tests that reach the
# mutated function. Per mutant that is a fraction of a second instead of a new interpreter, a
# new pytest and the project's imports (2-3 s of CPU) as cosmic-ray needs. It cannot see a
# subprocess: see below; and it mutates only code inside
# functions (module-level tables are not mutated). It cannot see a subprocess either, so for the
# pack's rule modules the policy tests call the pack's own servicer in the test process
# (tests/policies/in_process.py: the same client, requests and registry, without the socket).

# Generates the mutants without running any test (the first steps of `mutmut run`), so a
# sample can be drawn from their names.
GENERATE_MUTANTS = """
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
from mutmut.mutation.trampoline import set_mutant_under_test
import os
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)
"""


def ensure_mutmut_virtualenv() -> None:
    """mutmut runs the tests in its own process, so its virtualenv sees the project's packages
    through a .pth line to .venv (nothing is added to .venv itself)."""
    if not (MUTMUT_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(MUTMUT_VENV)], check=True)
    site = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    (MUTMUT_VENV / site / "project.pth").write_text(str(ROOT / ".venv" / site) + "\n")
    ensure_virtualenv(MUTMUT_VENV, (MUTMUT_REQUIREMENTS,), MUTMUT_REQUIREMENTS)


def mutmut_config(modules: list[str], tests: str) -> str:
    package = modules[0].split("/")[0]
    copied = sorted({name.split("/")[0] for name in tracked_files()} - {package, "tests"})
    lines = ["[mutmut]", f"source_paths={package}", "only_mutate="] + [f"    {module}" for module in modules] + ["also_copy="]
    lines += [f"    {name}" for name in copied]
    lines += ["pytest_add_cli_args_test_selection="] + [f"    {arg}" for arg in shlex.split(tests)]
    return "\n".join(lines) + "\n"


def mutmut_statuses(workdir: Path, env: dict) -> dict[str, str]:
    out = subprocess.run([str(MUTMUT_VENV / "bin" / "mutmut"), "results", "--all", "true"], cwd=workdir, env=env,
                         capture_output=True, text=True, check=True).stdout
    return dict(line.strip().split(": ", 1) for line in out.splitlines() if ": " in line)


def module_of(name: str) -> str:
    """`policies.iam.x_check__mutmut_3` -> `policies/iam.py`."""
    return name.split(".x")[0].replace(".", "/") + ".py"


# Equivalent mutants of letter case ------------------------------------------------------------
# Some lookups compare a key case-insensitively: iam_meaning.element(statement, "Sid") finds
# "sid" and "SID" alike, as IAM reads element names; condition_values/bool_values compare a
# condition key the same way. mutmut also mutates a string literal to its lower and upper case,
# so `element(statement, "Sid")` -> `element(statement, "SID")` cannot change behaviour. Both
# halves are decided from the code, never from a list of mutants:
# - the lookups: a function parameter is case-blind when every use of it in the body is
#   `p.lower()`, `p.casefold()` or `p.upper()` (also through `str(p)`), or passing it on in a
#   case-blind position of another such function (exact_condition -> condition_values);
# - the mutant: its function differs from the original (mutmut's `__mutmut_orig` copy, compared
#   as syntax trees) in exactly one string constant, only in letter case, and that constant is
#   an argument, in a case-blind position, of a call to such a function, resolved by name in
#   the module (defined there or imported from the package by `from .module import name`).
# A key read with helpers.get is *not* case-blind (props arrive with the provider's camelCase
# names), so `get(props, "keyUsage")` -> `"KEYUSAGE"` stays a mutant to kill.

_CASE_METHODS = frozenset({"lower", "casefold", "upper"})


def _parameter_uses(function: ast.FunctionDef, parameter: str, parents: dict) -> list:
    return [node for node in ast.walk(function) if isinstance(node, ast.Name) and node.id == parameter
            and not isinstance(parents.get(node), ast.arguments)]


def _case_blind_use(node: ast.Name, parents: dict, blind: dict, resolve) -> bool:
    """`p.lower()`, `str(p).lower()`, or `p` passed on in a case-blind position."""
    parent = parents.get(node)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "str" and parent.args == [node]:
        node, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Attribute) and parent.attr in _CASE_METHODS and parent.value is node:
        call = parents.get(parent)
        return isinstance(call, ast.Call) and call.func is parent and not call.args and not call.keywords
    if isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name):
        return parent.args.index(node) in blind.get(resolve(parent.func.id), set())
    return False


def _package_functions(package: Path) -> tuple[dict, dict]:
    """(module, function) -> its FunctionDef; module -> {local name: (module, function)}."""
    functions, names = {}, {}
    for path in sorted(package.glob("*.py")):
        module = path.stem
        tree = ast.parse(path.read_text())
        names[module] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                functions[(module, node.name)] = node
                names[module][node.name] = (module, node.name)
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module and "." not in node.module:
                for alias in node.names:
                    names[module][alias.asname or alias.name] = (node.module, alias.name)
    return functions, names


def case_blind_parameters(package: Path) -> tuple[dict, dict]:
    """(module, function) -> the positions of its case-blind parameters, and the name table."""
    functions, names = _package_functions(package)
    parents = {}
    for function in functions.values():
        for node in ast.walk(function):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
    blind: dict = {}
    changed = True
    while changed:  # a fixpoint: a parameter passed on becomes blind once its callee's is
        changed = False
        for (module, name), function in functions.items():
            resolve = lambda local, module=module: names[module].get(local)  # noqa: E731
            for position, argument in enumerate(function.args.args):
                if position in blind.get((module, name), set()):
                    continue
                uses = _parameter_uses(function, argument.arg, parents)
                if uses and all(_case_blind_use(use, parents, blind, resolve) for use in uses):
                    blind.setdefault((module, name), set()).add(position)
                    changed = True
    return blind, names


def _differences(a: ast.AST, b: ast.AST, parent: ast.AST | None = None, out: list | None = None) -> list:
    """Where two trees differ: (original node, mutant node, the original's parent)."""
    out = [] if out is None else out
    if type(a) is not type(b):
        out.append((a, b, parent))
        return out
    if isinstance(a, ast.Constant):
        if a.value != b.value or type(a.value) is not type(b.value):
            out.append((a, b, parent))
        return out
    for field in a._fields:
        x, y = getattr(a, field, None), getattr(b, field, None)
        if isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                out.append((a, b, parent))
                continue
            for i, j in zip(x, y):
                if isinstance(i, ast.AST):
                    _differences(i, j, a, out)
                elif i != j:
                    out.append((a, b, parent))
        elif isinstance(x, ast.AST) and isinstance(y, ast.AST):
            _differences(x, y, a, out)
        elif x != y and field != "name":  # the def's own name is the mutant's
            out.append((a, b, parent))
    return out


def _case_only(a: str, b: str) -> bool:
    return a != b and a.lower() == b.lower() and a.casefold() == b.casefold() and a.upper() == b.upper()


def case_equivalents(workdir: Path, names: list[str]) -> set[str]:
    """The named mutants that only change the letter case of a key given to a case-blind lookup."""
    package = names[0].split(".")[0] if names else ""
    if not names or not (workdir / package).is_dir():
        return set()
    blind, local_names = case_blind_parameters(workdir / package)
    definitions: dict[str, dict] = {}
    equivalent = set()
    for name in names:
        module_path = module_of(name)
        module = Path(module_path).stem
        if module_path not in definitions:
            tree = ast.parse((workdir / "mutants" / module_path).read_text())
            definitions[module_path] = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        defs = definitions[module_path]
        mutant_name = name.rsplit(".", 1)[-1]
        original = defs.get(mutant_name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
        mutant = defs.get(mutant_name)
        if original is None or mutant is None:
            continue
        found = _differences(original, mutant)
        if len(found) != 1:
            continue
        before, after, parent = found[0]
        if not (isinstance(before, ast.Constant) and isinstance(before.value, str) and isinstance(after.value, str)
                and _case_only(before.value, after.value)):
            continue
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and before in parent.args:
            callee = local_names.get(module, {}).get(parent.func.id)
            if parent.args.index(before) in blind.get(callee, set()):
                equivalent.add(name)
    return equivalent


def mutmut_modules(modules: list[str], tests: str, sample: int, seed: int) -> list[dict]:
    """Modules of one package in one mutmut session (one stats run), each sampled on its own."""
    workdir = scratch_copy(link_venv=False)
    try:
        (workdir / "setup.cfg").write_text(mutmut_config(modules, tests))
        env = {k: v for k, v in os.environ.items() if k not in ("UPDATE_GOLDEN", "CI")}
        env["POLICY_PACK_IN_PROCESS"] = "1"
        python, tool = MUTMUT_VENV / "bin" / "python", MUTMUT_VENV / "bin" / "mutmut"
        subprocess.run([str(python), "-c", GENERATE_MUTANTS], cwd=workdir, env=env, check=True, capture_output=True)
        names = {module: sorted(n for n in mutmut_statuses(workdir, env) if module_of(n) == module) for module in modules}
        equivalent = {module: case_equivalents(workdir, found) for module, found in names.items()}
        runnable = {module: [n for n in found if n not in equivalent[module]] for module, found in names.items()}
        chosen = {module: sorted(random.Random(seed).sample(found, sample)) if 0 < sample < len(found) else found
                  for module, found in runnable.items()}
        everything = [name for module in modules for name in chosen[module]]
        if everything:
            subprocess.run([str(tool), "run", "--max-children", "1", *everything], cwd=workdir, env=env, check=True, capture_output=True)
        statuses = mutmut_statuses(workdir, env)
        return [mutmut_result(module, names[module], len(equivalent[module]), chosen[module], statuses, workdir, env)
                for module in modules]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def mutmut_result(module: str, names: list[str], equivalent: int, chosen: list[str], statuses: dict[str, str], workdir: Path,
                  env: dict) -> dict:
    # A mutant no selected test reaches survives too ("no tests"), as mutmut scores it.
    surviving = [name for name in chosen if statuses[name] in ("survived", "no tests")]
    described = describe_mutmut(module, surviving, workdir, env)
    survivors = [described[name] + ("" if statuses[name] == "survived" else f" ({statuses[name]})") for name in surviving]
    errors = [f"{name} ({statuses[name]})" for name in chosen if statuses[name] not in ("killed", "survived", "timeout", "no tests")]
    killed = sum(statuses[name] in ("killed", "timeout") for name in chosen)
    judged = killed + len(survivors)
    return {"module": module, "mutants": len(names), "equivalent": equivalent, "sampled": len(chosen) < len(names) - equivalent,
            "killed": killed, "survived": len(survivors), "score": round(100 * killed / judged, 1) if judged else None,
            "survivors": survivors, "errors": errors}


# The diff of each named mutant, in one process (`mutmut show` per survivor costs seconds each).
SHOW_MUTANTS = """
import json, sys
from mutmut.__main__ import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in sys.argv[1:]}))
"""


def describe_mutmut(module: str, names: list[str], workdir: Path, env: dict) -> dict[str, str]:
    """name -> file:line of the mutated source line: the original -> the mutant."""
    if not names:
        return {}
    out = subprocess.run([str(MUTMUT_VENV / "bin" / "python"), "-c", SHOW_MUTANTS, *names], cwd=workdir, env=env,
                         capture_output=True, text=True, check=True).stdout
    lines = (workdir / module).read_text().splitlines()  # the measured source, not the work tree's
    described = {}
    for name, diff in json.loads(out).items():
        diff_lines = diff.splitlines()
        before = [line[1:].strip() for line in diff_lines if line.startswith("-") and not line.startswith("---")]
        after = [line[1:].strip() for line in diff_lines if line.startswith("+") and not line.startswith("+++")]
        function = name.rsplit(".", 1)[-1].split("__mutmut_")[0].removeprefix("x_").split("ǁ")[-1]
        start = next((n for n, text in enumerate(lines) if text.lstrip().startswith(f"def {function}(")), 0)
        line = next((n + 1 for n in range(start, len(lines)) if before and lines[n].strip() == before[0]), start + 1)
        described[name] = f"{module}:{line}: {' / '.join(before)} -> {' / '.join(after)}"
    return described


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
    lines = (ROOT / module).read_text().splitlines()
    survivors, errors, equivalent, unsampled, killed = [], [], 0, 0, 0
    for item, result in records:
        if result is None:
            continue
        mutation = item["mutations"][0]
        line = mutation["start_pos"][0]
        described = f"{module}:{line}: {mutation['operator_name'].split('/')[-1]}: {lines[line - 1].strip()}"
        if result["worker_outcome"] == "skipped":
            equivalent += result["output"].startswith("equivalent")
            unsampled += result["output"] == "not in the sample"
        elif result["worker_outcome"] != "normal":
            errors.append(f"{described} ({result['worker_outcome']})")
        elif result.get("test_outcome") == "survived":
            survivors.append(described)
        else:
            killed += 1
    judged = killed + len(survivors)
    return {"module": module, "mutants": len(records), "equivalent": equivalent, "sampled": unsampled > 0,
            "killed": killed, "survived": len(survivors), "score": round(100 * killed / judged, 1) if judged else None,
            "survivors": survivors, "errors": errors}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="paths under the project (default: every module in MODULES)")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant's test run")
    parser.add_argument("--sample", type=int, default=0, help="run a seeded uniform sample of this many mutants per module")
    parser.add_argument("--seed", type=int, default=19, help="the sample's seed")
    parser.add_argument("--tool", choices=("auto", "cosmic-ray", "mutmut"), default="auto",
                        help=f"auto: mutmut for {', '.join(MUTMUT_MODULES + MUTMUT_PREFIXES)}, cosmic-ray for the rest")
    args = parser.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(f"{module}: {tests}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"not in MODULES: {', '.join(unknown)}")
    modules = args.modules or list(MODULES)
    auto = {m: m in MUTMUT_MODULES or m.startswith(MUTMUT_PREFIXES) for m in modules}
    use_mutmut = {m: args.tool == "mutmut" or (args.tool == "auto" and auto[m]) for m in modules}
    ensure_virtualenv()
    if not all(use_mutmut.values()):
        ensure_virtualenv(MUTATION_VENV, (REQUIREMENTS,), REQUIREMENTS)
    if any(use_mutmut.values()):
        ensure_mutmut_virtualenv()
    workdir = scratch_copy() if not all(use_mutmut.values()) else Path(tempfile.mkdtemp(prefix="mutation-"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"commit {commit}{' (with uncommitted changes)' if dirty.strip() else ''}; sample {args.sample or 'all'}, seed {args.seed}")
    try:
        print("| module | tool | mutants | equivalent | run | killed | survived | score |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        results = []
        # The pack's rule modules share one mutmut session (one stats run of the policy tests).
        batched = [m for m in modules if use_mutmut[m] and m.startswith("policies/")]
        batch_results = {}
        if batched:
            tests = " ".join(dict.fromkeys(arg for m in batched for arg in shlex.split(MODULES[m])))
            batch_results = {r["module"]: r for r in mutmut_modules(batched, tests, args.sample, args.seed)}
        for module in modules:
            if module in batch_results:
                result = batch_results[module]
            elif use_mutmut[module]:
                (result,) = mutmut_modules([module], MODULES[module], args.sample, args.seed)
            else:
                result = mutate_module(module, MODULES[module], workdir, args.timeout, args.sample, args.seed)
            results.append(result)
            run = result["killed"] + result["survived"]
            print(f"| {module} | {'mutmut' if use_mutmut[module] else 'cosmic-ray'} | {result['mutants']} | {result['equivalent']} | {run}{' (sample)' if result['sampled'] else ''} "
                  f"| {result['killed']} | {result['survived']} | {result['score']}% |", flush=True)
        for result in results:
            for survivor in result["survivors"]:
                print(f"survived: {survivor}")
            for error in result["errors"]:
                print(f"not judged: {error}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
