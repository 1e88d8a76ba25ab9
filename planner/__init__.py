"""综合查一次 joint inspection planner.

The library goes in one direction: load/validate (``planner.dataset``) → instance → sampling →
model → solve → routes → export. Only ``planner.cli`` sees all of them.
"""

__version__ = "0.1.0"
