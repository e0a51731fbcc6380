# Training and evaluation: one job per (variant, seed).
#
# On SLURM (workflow/profiles/slurm) a run is one allocation of train_nodes nodes, each with
# train_gpus GPUs (--gres is per node) and train_threads CPUs, through the executor plugin's
# task resources (`mpi`, `tasks`, `nodes`): the plugin then runs the rule's shell in the batch
# step, whose own `srun --ntasks K` starts one `pokernet train` per node (the allocation's one
# step; nothing nested). Those meet at the first node's rendezvous and each starts one process
# per GPU (torchrun). SIGUSR1 comes signal_ahead_s before the time limit: the run checkpoints at
# its epoch's end and exits for requeue (pokernet/train/continuity.py).

# Cores that cap a local job's threads (--cores, a profile's `cores:`); None on a cluster, where a
# profile gives `jobs:` and no cores and Snakemake plans (a dry run) with one core.
_resources = workflow.resource_settings
CORES_GIVEN = None if _resources.nodes and _resources.cores in (None, 1) else _resources.cores
NODES = config["train_nodes"]


# Inside a SLURM allocation (SLURM_JOB_ID, decided by the job's shell): the job's one step, one
# task per node (--label: each log line names its task); elsewhere the command itself.
# (Doubled braces: the shell line is formatted again by Snakemake.)
TRAIN_STEP = (
    f'${{{{SLURM_JOB_ID:+srun --ntasks {NODES} --cpus-per-task {config["train_threads"]} '
    f"--kill-on-bad-exit=1 --label}}}}"
)


RECIPE = checked_recipe(config["recipe"])
TRAIN_EPOCHS = config["epochs"] or RECIPE["epochs"]
# The job's SLURM resources and what the plan refuses (workflow/rules/site.smk).
_site_rule_resources("train", **train_slurm_resources())
check_train_plan()


rule train:
    input:
        recipe=recipe_files(config["recipe"]),
        protocol=PROTOCOL,
    output:
        f"{WORK}/runs/{{variant}}/seed{{seed}}/metrics.json",
    log:
        f"{LOGS}/train/{{variant}}-seed{{seed}}.log",
    conda:
        ENV
    # threads: the job's CPUs on each node (its processes share them); gpus_held: all GPUs of the run
    # (train_gpus per node x train_nodes), so the local scheduler never lets two runs share them
    # (not `gpu`, which the SLURM plugin would submit as a total beside --gres).
    # On the CPU a job may hold more of the scheduler's cores than it runs threads (train_job_cores).
    threads: train_job_cores()
    resources:
        gpus_held=config["train_gpus"] * NODES,
        nodes=NODES,
    params:
        launch=train_launch_flags,
        rdzv=RDZV,
        model=variant_model,
        flags=variant_flags,
        run_dir=lambda wc, output: Path(output[0]).parent,
        epochs=["--epochs", config["epochs"]] if config["epochs"] else [],
        recipe=config["recipe"],
        data=DATA_FLAGS,
        protocol=PROTOCOL_FLAGS,
        # the job's own threads; capped only by cores given to the local scheduler
        threads=lambda wildcards, threads: (
            min(threads, config["train_threads"]) if CORES_GIVEN else config["train_threads"]
        ),
    # Each attempt appends to the rule log, after a line naming it.
    shell:
        'echo "=== attempt $(date -u +%FT%TZ) on $(hostname), SLURM job ${{SLURM_JOB_ID:-none}}" >> {log:q}; '
        + TRAIN_STEP
        + " pokernet train --model {params.model:q} {params.flags:q} --recipe {params.recipe:q} "
        "{params.data:q} {params.epochs:q} --seed {wildcards.seed} --threads {params.threads} {params.launch:q} "
        "{params.rdzv} --out {params.run_dir:q} {params.protocol:q} --restart-stale >> {log:q} 2>&1"


rule train_all:
    input:
        sorted(set(TABLE2_RUNS) | set(TABLE4_RUNS) | set(TABLE5_RUNS)),


# `snakemake ... cost`: the plan's training runs, epochs and images, and the GPU-hours they take at
# the suite's measured throughput (pokernet cluster cost; runs on the controller, prints only).
localrules:
    cost,


rule cost:
    log:
        f"{LOGS}/cost.log",
    conda:
        ENV
    params:
        runs=len(set(TABLE2_RUNS) | set(TABLE4_RUNS) | set(TABLE5_RUNS)),
        epochs=TRAIN_EPOCHS,
        data=DATA_FLAGS[:2],
        subset=(["--subset", config["dataset"]["subset_per_class"]] if config["dataset"]["subset_per_class"] else []),
    shell:
        "pokernet cluster cost --runs {params.runs} --epochs {params.epochs} {params.data:q} {params.subset:q} "
        "| tee {log:q}"
