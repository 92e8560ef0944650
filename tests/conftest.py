import sys
from pathlib import Path

# The project root holds the packages (configs, components, review, policies).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
