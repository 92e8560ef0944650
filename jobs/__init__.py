"""Running the environment's jobs by hand: `python3 run.py task ENV JOB`."""
