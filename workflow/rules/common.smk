# Variants, paths and small helpers shared by the rules (orchestration only).
import logging
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

from pokernet import schemas
from pokernet.train.recipe import load_recipe, recipe_path
from pokernet.models import list_models
from pokernet.models.catalog import width_label
from pokernet.provenance import available_cores
from pokernet.models.variant import ABLATIONS, POKERNET_FAMILY, REFERENCE_FAMILY, Variant, ablated


class OneMissingMetadataLine(logging.Filter):
    """Snakemake warns "Missing metadata for file ..." once per output it did not make in this checkout
    (91 lines for a fresh clone's `--report`, issue 26): one line says why, the rest are dropped."""

    said = False

    def filter(self, record):
        if not str(record.msg).startswith("Missing metadata for file"):
            return True
        if OneMissingMetadataLine.said:
            return False
        OneMissingMetadataLine.said = True
        record.msg = (
            "Snakemake has no record of the jobs that made some outputs (they were made in another "
            "checkout, e.g. the committed results/ and work/): the report omits their run times, nothing else."
        )
        record.args = ()
        return True


logger.addFilter(OneMissingMetadataLine())


RESULTS = config["results_dir"]
WORK = config["work_dir"]
LOGS = f"logs/{config['profile_name']}"
# The one software environment of every job (`--sdm conda`); relative to workflow/rules/.
ENV = "../envs/pokernet.yaml"

# Files the jobs read besides their inputs' outputs: declared, so that editing one re-runs
# what depends on it. paper.yaml: the paper's numbers and tolerances (every report rule and
# the audit); proxy_notes.yaml: measured explanations of the proxy's outlier rows (Table 2; the
# summary reads Table 2's computed rows, table2.json); expansion_choice.json: the recorded fastest rewrites
# (`pokernet latency`). tests/test_layout.py checks each packaged data file's readers declare it.
PAPER = "pokernet/data/paper.yaml"
# the frozen protocol the runs confirm (none for a profile that sets its own epochs or seeds)
PROTOCOL = config.get("protocol") or []
PROTOCOL_FLAGS = ["--protocol", PROTOCOL] if PROTOCOL else []
PROXY_NOTES = "pokernet/data/proxy_notes.yaml"
EXPANSION_CHOICE = "pokernet/latency/expansion_choice.json"

# A variant is a model with an optional ablation (`pokernet.models.variant`: the one table of
# ablations, names, options and flags); each distinct variant is trained once even when several
# tables use it (e.g. pokernet_100 as published serves Tables 2, 4 and 5).


def checked_recipe(spec):
    """The recipe, checked whole (it exists, is UTF-8 YAML, a mapping, keeps the recipe contract): a
    broken recipe stops the DAG with the key and the file named, not at the first train job."""
    try:
        return load_recipe(spec)
    except (OSError, ValueError) as error:
        raise WorkflowError(f"config key recipe: {error}") from None


def recipe_files(spec):
    """The recipe file (a path or a packaged name) and every file it derives from (checked_recipe first)."""
    checked_recipe(spec)
    files = []
    while spec:
        path = recipe_path(spec)
        if str(path) in files:
            break
        files.append(str(path))
        parent = schemas.load_yaml(path).get("derives_from")
        spec = str(path.parent / parent) if parent and (path.parent / parent).is_file() else parent
    return files


def variant_model(wildcards):
    return Variant.parse(wildcards.variant).model


def variant_flags(wildcards):
    """The `pokernet` flags of the variant's options, as a list (quoted one by one by `:q`)."""
    return Variant.parse(wildcards.variant).cli_flags()


def train_launch_flags(wildcards):
    """GPUs: one process per GPU of a node, started by `pokernet train` itself (torchrun), which
    first checks that the GPUs are there (one line and exit 2 when not)."""
    gpus, nodes, micro = config["train_gpus"], config["train_nodes"], config["train_accumulate"]
    accumulate = ["--accumulate", str(micro)] if micro > 1 else []
    accumulate += [] if config["train_amp"] else ["--no-amp"]
    workers = config["train_workers"]
    accumulate += [] if workers is None else ["--workers", str(workers)]
    several = ["--nodes", str(nodes)] if nodes > 1 else []
    if gpus == 0:
        return ["--device", config["train_device"], *accumulate, *several]
    return ["--device", "cuda", "--procs-per-node", str(gpus), *accumulate, *several]


def train_job_cores():
    """The scheduler's cores one CPU training job holds. Asked for more cores than the machine has
    (`--cores 8` on 2 cores), Snakemake would start 8 single-thread jobs at once, which ran 8%
    slower in aggregate than 2 (results/benchmarks/trainer_ab.md): there a local job holds its share of the
    asked cores, so no more jobs run at once than the machine has cores. The job itself still runs
    train_threads threads (the shell passes min(threads, train_threads))."""
    threads = config["train_threads"]
    asked = workflow.global_resources["_cores"].value  # None without --cores
    if config["train_gpus"] or not workflow.local_exec or not asked:
        return threads
    return max(threads, asked // max(1, available_cores() // threads))


# The rendezvous of a multi-node run: the first node's host name, read by the job's shell there
# (a constant of this file, not a config value).
RDZV = '--rdzv-endpoint "$(hostname):29500"' if config["train_nodes"] > 1 else ""


def ablation_variants(table):
    return [v.name for v in ablated(list(config["ablation_models"]), table)]


def metrics(variants, seeds):
    return [f"{WORK}/runs/{v}/seed{s}/metrics.json" for v in variants for s in seeds]


def complexity_files(variants):
    return [f"{WORK}/complexity/{v}.json" for v in variants]


# A variant is a registered model name with an optional ablation suffix.
MODEL_NAMES = list_models()


def check_model_names():
    """Config model lists name registered models; ablation models take the ablations' options."""
    lists = {
        "models": config["models"],
        "ablation_models": config["ablation_models"],
        "latency.models": config["latency"]["models"],
    }
    for key, names in lists.items():
        for name in names:
            if name not in MODEL_NAMES:
                raise WorkflowError(f"config key {key}: unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")
    for name in config["ablation_models"]:
        if Variant(name).family != POKERNET_FAMILY:
            raise WorkflowError(
                f"config key ablation_models: {name!r} is not a PokerNet; the ablations of "
                f"Tables 4 and 5 change PokerNet's options"
            )


def derive_model_lists():
    """One entry in `models` reaches every table that applies to it: a null `ablation_models` is the
    PokerNets of `models`, a null `latency.models` each of them followed by its reference arm (the
    GhostNet of its width). A PokerNet without a registered reference gets a warning naming it."""
    pokernets = [m for m in config["models"] if m in MODEL_NAMES and Variant(m).family == POKERNET_FAMILY]
    for name in pokernets:
        if Variant(name).reference is None:
            logger.warning(
                f"config key models: {name} has no reference arm: no GhostNet {width_label(Variant(name).width)} "
                f"is registered (pokernet/models/catalog.py), so Tables 2 and 3 compare it with nothing"
            )
    if config["ablation_models"] is None:
        config["ablation_models"] = pokernets
    if config["latency"]["models"] is None:
        references = [Variant(m).reference for m in pokernets]
        config["latency"]["models"] = [n for m, r in zip(pokernets, references) for n in (m, r and r.name) if n]


derive_model_lists()
check_model_names()
if config["train_nodes"] > 1 and config["train_gpus"] < 1 and config["train_device"] != "cpu":
    raise WorkflowError(
        "config key train_nodes: several nodes per run need train_gpus >= 1 (GPUs per node), "
        "or train_device: cpu (one CPU process per node)"
    )


wildcard_constraints:
    seed=r"\d+",
    variant="(?:{})(?:-(?:{}))?".format("|".join(map(re.escape, MODEL_NAMES)), "|".join(map(re.escape, ABLATIONS))),


TABLE2_VARIANTS = list(config["models"])
# Table 2's PokerNet and GhostNet are compared paired by seed: they get table2_paired_seeds.
TABLE2_PAIRED = [v for v in TABLE2_VARIANTS if Variant(v).reference or Variant(v).family == REFERENCE_FAMILY]
TABLE2_RUNS = sorted(
    set(metrics(TABLE2_VARIANTS, config["table2_seeds"]))
    | set(metrics(TABLE2_PAIRED, config.get("table2_paired_seeds", config["table2_seeds"])))
)
TABLE4_RUNS = metrics(ablation_variants("table4"), config["seeds"])
TABLE5_RUNS = metrics(ablation_variants("table5"), config["seeds"])

_root = config["dataset"]["root"]


onstart:
    # A missing dataset path stops the run before any job, with the key named. It is checked
    # here rather than at parse time so that a dry run (e.g. of the SLURM profile on a laptop)
    # can plan without the data.
    if _root is not None and not Path(_root).exists() and set(workflow.dag_settings.targets) != {"cost"}:
        raise WorkflowError(
            f"config key dataset.root: {_root!r} does not exist "
            f"(dataset {config['dataset']['name']}); set it to the data folder"
        )


# The `pokernet train` data flags as a list: each item reaches the shell quoted (`{params.data:q}`).
DATA_FLAGS = [
    "--data",
    config["dataset"]["name"],
    *(["--data-root", _root] if _root else []),
    *(["--subset", config["dataset"]["subset_per_class"]] if config["dataset"]["subset_per_class"] else []),
]
