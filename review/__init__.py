"""The offline review: plan, diff, render-preview, affected (see __main__.py)."""

from policies.deferred_imports import defer_never_run

defer_never_run()  # before anything imports pulumi (policies/deferred_imports.py says why)
