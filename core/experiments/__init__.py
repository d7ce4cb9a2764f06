"""Experiments: many variants of one model trained in one go, and what the results say.

- ``factors``: what can vary (a layer's size, adding or removing a layer, a training setting), built
  from the model itself, and how a choice of values changes a spec and its settings.
- ``plan``: grid or random expansion into variants, each checked against the limits before anything trains.
- ``engine``: the experiment record (saved in the run store), starting its runs through the RunManager,
  stopping them as a group and collecting their results as a table.
- ``estimate``: the time it will take, from the measured speed of past runs.
- ``analysis``: Pareto fronts, the effect of each factor with its seed spread, "is this difference
  real?", and a few plain sentences backed by numbers.

The simple path (the CLI, bench/ and other searches use it)::

    factors = [parse_factor("layer3.filters=16,32", spec), parse_factor("optimizer=adam,sgd", spec)]
    plan = plan_experiment(spec, hp, "fashion_mnist", factors, check=manager_check(manager, "fashion_mnist"))
    experiment = start_experiment(manager, plan, owner="cli")
    table = wait_for_experiment(manager, experiment)  # pandas DataFrame, one row per variant
"""
