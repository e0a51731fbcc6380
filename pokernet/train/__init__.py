"""Training and evaluation: ``recipe`` (recipes), ``data`` (datasets and pipelines), ``engine``
(one run: TrainConfig -> RunState -> metrics.json) over ``loops`` (an epoch, an evaluation),
``checkpoint`` (the file format), ``distributed`` (ranks, devices, DDP), ``rng`` (seeds and
random states) and ``runlog`` (train.log); ``cli`` holds ``pokernet train`` and ``pokernet evaluate``."""
