import sys

from jobs.run_task import main

sys.exit(main(sys.argv[1:]))
