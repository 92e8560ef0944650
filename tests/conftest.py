import sys
from pathlib import Path

# The project root holds the packages (configs, components, review, policies).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pytest_configure(config):
    """Every date-dependent judgement (waiver expiry in the loader and in the pack) runs on one
    fixed day in tests, whatever the real date, so the suite does not age (configs/clock.py).
    Subprocesses of run.py use the real date, as a user's command does."""
    from configs import clock
    from tests.harness import TODAY

    clock.freeze(TODAY)
