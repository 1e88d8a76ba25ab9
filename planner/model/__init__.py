"""The model: solver-ready data and the optimisation that makes a plan of it.

``instance`` (tasks with their feasible days) → ``merge`` (visit groups per enterprise, exact
where a cap binds) → ``schedule`` (crews and days) with ``matching`` (随机选派: who fills each
seat) → ``bounds`` (how far from the best possible). ``groups`` holds the visit group, and
``enterprise`` the variables of the per-enterprise CP-SAT models that the merge, the bound and
diagnose build. Model code reads no files and prints nothing; the rules it keeps come from
``planner.rules``.
"""
