# Variants, paths and small helpers shared by the rules (orchestration only).
from pathlib import Path

from snakemake.exceptions import WorkflowError

RESULTS = config["results_dir"]
WORK = config["work_dir"]
LOGS = f"logs/{config['profile_name']}"

# A variant is a model with options; each distinct variant is trained once even when several
# tables use it (e.g. pokernet_100 with defaults serves Tables 2, 4 and 5).
ABLATIONS = {
    "table4": {"no_se": {"se": False}},
    "table5": {"act_relu": {"act": "relu"}, "act_relu6": {"act": "relu6"}},
}


def variant_options(variant):
    model, _, suffix = variant.partition("-")
    for options in ABLATIONS.values():
        if suffix in options:
            return model, options[suffix]
    if suffix:
        raise WorkflowError(f"unknown variant suffix {suffix!r} in {variant!r}")
    return model, {}


def cli_flags(options):
    """The `pokernet` flags of a variant's model options."""
    flags = []
    for key, value in options.items():
        if key == "se":
            flags.append("" if value else "--no-se")
        else:
            flags.append(f"--{key.replace('_', '-')} {value}")
    return " ".join(f for f in flags if f)


def ablation_variants(table):
    base = list(config["ablation_models"])
    return base + [f"{m}-{suffix}" for m in base for suffix in ABLATIONS[table]]


def metrics(variants, seeds):
    return [f"{WORK}/runs/{v}/seed{s}/metrics.json" for v in variants for s in seeds]


def complexity_files(variants):
    return [f"{WORK}/complexity/{v}.json" for v in variants]


TABLE2_VARIANTS = list(config["models"])
TABLE2_RUNS = metrics(TABLE2_VARIANTS, config["table2_seeds"])
TABLE4_RUNS = metrics(ablation_variants("table4"), config["seeds"])
TABLE5_RUNS = metrics(ablation_variants("table5"), config["seeds"])

_root = config["dataset"]["root"]


onstart:
    # A missing dataset path stops the run before any job, with the key named. It is checked
    # here rather than at parse time so that a dry run (e.g. of the SLURM profile on a laptop)
    # can plan without the data.
    if _root is not None and not Path(_root).exists():
        raise WorkflowError(f"config key dataset.root: {_root!r} does not exist "
                            f"(dataset {config['dataset']['name']}); set it to the data folder")


DATA_FLAGS = " ".join(filter(None, [
    f"--data {config['dataset']['name']}",
    f"--data-root {_root}" if _root else "",
    f"--subset {config['dataset']['subset_per_class']}" if config["dataset"]["subset_per_class"] else "",
]))
