# Training and evaluation: one job per (variant, seed).


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
    # threads: the job's CPUs on each node (its processes share them); gpu: all GPUs of the run
    # (train_gpus per node x train_nodes), so the local scheduler never lets two runs share them.
    # On the CPU a job may hold more of the scheduler's cores than it runs threads (train_job_cores).
    threads: train_job_cores()
    resources:
        gpu=config["train_gpus"] * config["train_nodes"],
        nodes=config["train_nodes"],
    params:
        prefix=train_prefix,
        launch=train_launch_flags,
        rdzv=RDZV,
        model=variant_model,
        flags=variant_flags,
        run_dir=lambda wc, output: Path(output[0]).parent,
        epochs=["--epochs", config["epochs"]] if config["epochs"] else [],
        recipe=config["recipe"],
        data=DATA_FLAGS,
        threads=lambda wildcards, threads: min(threads, config["train_threads"]),
        protocol=PROTOCOL_FLAGS,
    shell:
        "{params.prefix:q} pokernet train --model {params.model:q} {params.flags:q} --recipe {params.recipe:q} "
        "{params.data:q} {params.epochs:q} --seed {wildcards.seed} --threads {params.threads} {params.launch:q} "
        "{params.rdzv} --out {params.run_dir:q} {params.protocol:q} --restart-stale > {log:q} 2>&1"


rule train_all:
    input:
        sorted(set(TABLE2_RUNS) | set(TABLE4_RUNS) | set(TABLE5_RUNS)),
