# CPU latency at batch 1 (Table 3). The job takes every core the run was given, so no other
# job runs beside it and `--cores 8` cannot corrupt the timings: Snakemake caps a rule's
# threads at --cores. A large number rather than `workflow.cores`, which raises where no
# --cores is given (`--report`, cluster executors) and so stopped those at parse time; on a
# cluster the profile's set-threads sizes the job (workflow/profiles/slurm).
ALL_CORES = 1024
# The choice the latency rule applies: with config latency.choose, the one rule latency_choice
# measures on this machine; else the packaged one (its entry for this CPU's ISA, else said).
CHOICE_APPLIED = f"{WORK}/latency/expansion_choice.json" if config["latency"].get("choose", False) else EXPANSION_CHOICE


rule latency:
    input:
        choice=CHOICE_APPLIED,
    output:
        f"{WORK}/latency/latency.json",
    log:
        f"{LOGS}/latency.log",
    conda:
        ENV
    threads: ALL_CORES
    params:
        models=config["latency"]["models"],
        runtime=config["latency"]["runtime"],
        threads=["--threads", config["latency"]["threads"]] if config["latency"]["threads"] else [],
        budget=config["latency"]["budget_s"],
        invocations=config["latency"]["invocations"],
    shell:
        "pokernet latency {params.models:q} --runtime {params.runtime:q} {params.threads:q} "
        "--budget-s {params.budget:q} --invocations {params.invocations:q} --choice {input.choice:q} "
        "--out {output:q} > {log:q} 2>&1"


# Opt-in (config latency.choose): the fastest Poker expansion / Ghost padding per runtime and
# thread count, measured on this machine and recorded under its CPU's ISA; the latency rule reads it.
rule latency_choice:
    output:
        f"{WORK}/latency/expansion_choice.json",
    log:
        f"{LOGS}/latency_choice.log",
    conda:
        ENV
    threads: ALL_CORES
    params:
        threads=["--threads", config["latency"]["threads"]] if config["latency"]["threads"] else [],
    shell:
        "pokernet latency --choose --runtime all {params.threads:q} --choice {output:q} > {log:q} 2>&1"
