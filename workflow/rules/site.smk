# A SLURM site's settings from the config (key `slurm`, set with --configfile like the rest of the
# study), applied as resources here rather than in a profile's default-resources/set-resources
# lists: a command-line --default-resources or --set-resources then adds to them and overrides only
# the resources it names, instead of replacing the profile's whole list. Included before any rule;
# the train rule's resources and plan checks are defined here and applied in train.smk.
SITE = config["slurm"]


def _site_default_resources():
    """Every job's partition, account, QoS, memory and time limit (a rule may set its own);
    a resource given with --default-resources on the command line wins."""
    given = set(workflow.resource_settings.default_resources or {})
    defaults = workflow.resource_settings._parsed_default_resources
    wanted = {
        "slurm_partition": SITE["partition"],
        "slurm_account": SITE["account"],
        "qos": SITE["qos"],
        "mem_mb": SITE["mem_mb"],
        "runtime": SITE["runtime"],
    }
    for name, value in wanted.items():
        if value is not None and name not in given:
            defaults[name] = value


def _site_rule_resources(rule, **resources):
    """A rule's site resources, under what --set-resources RULE:NAME=... gives on the command line."""
    overrides = workflow.resource_settings._parsed_overwrite_resources
    held = overrides.setdefault(rule, type(workflow.resource_settings._parsed_default_resources)())
    for name, value in resources.items():
        if value is not None and name not in held:
            held[name] = value


def train_slurm_resources():
    """The train job's SLURM resources (the local executor ignores them): site settings from
    config key `slurm` (site.smk), the per-node GPUs as --gres, the tasks as the plugin's `mpi` job
    (an empty `mpi` for one node: the plugin's MPI check wants tasks > 1, and an empty value still
    runs the shell unwrapped, in the batch step)."""
    gpus, model = config["train_gpus"], SITE["gpu_model"]
    return {
        "slurm_partition": SITE["gpu_partition"] or SITE["partition"],
        "runtime": SITE["train_runtime"],
        "mem_mb": SITE["train_mem_mb"],
        "nodes": NODES,
        "mpi": "srun" if NODES > 1 else "",
        "tasks": NODES if NODES > 1 else None,
        "tasks_per_gpu": 0,
        "cpus_per_task": config["train_threads"],
        "gres": (f"gpu:{model}:{gpus}" if model else f"gpu:{gpus}") if gpus else None,
        "slurm_extra": f"'--signal=USR1@{SITE['signal_ahead_s']}'",
    }


def check_train_plan():
    """What every train job would refuse at its start, refused once at plan time (one line)."""
    gpus, batch, micro = config["train_gpus"], RECIPE["batch_size"], config["train_accumulate"]
    processes = NODES * max(1, gpus)
    if batch % (processes * micro):
        raise WorkflowError(
            f"config key train_accumulate: the recipe's global batch {batch} does not divide over "
            f"{processes} processes (train_nodes x train_gpus) x {micro} micro-batches"
        )
    if gpus > SITE["node_gpus"]:
        raise WorkflowError(
            f"config key train_gpus: {gpus} GPUs per node, a node has {SITE['node_gpus']} (slurm.node_gpus)"
        )
    if SITE["train_mem_mb"] > SITE["node_mem_mb"]:
        raise WorkflowError(
            f"config key slurm.train_mem_mb: {SITE['train_mem_mb']} MB per node, a node has "
            f"{SITE['node_mem_mb']} MB (slurm.node_mem_mb)"
        )


_site_default_resources()
# The latency job holds a node alone (its timings); 16 GB, 2 h.
_site_rule_resources("latency", slurm_extra="'--exclusive'", mem_mb=16000, runtime=120)
