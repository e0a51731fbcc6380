# PokerNet reproduction: builds, trains, evaluates and profiles every model of Table 2, runs
# the SE (Table 4) and nonlinearity (Table 5) ablations, and writes Tables 2-5, Figs. 5-6
# and a claim summary under results/. Every rule calls the `pokernet` CLI; see README.md.
#
#   snakemake --cores 8 tables                                   # default profile (offline)
#   snakemake --profile workflow/profiles/smoke smoke            # CI smoke run
#   snakemake --profile workflow/profiles/slurm tables           # ImageNet on a SLURM cluster

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from pokernet.protocol import with_protocol
from pokernet.schemas import check_size
from pokernet.schemas.overlays import layered_config

min_version("9.0")


# The base config. A profile's config (workflow/config/<profile>.yaml) is an overlay holding only
# the keys that differ; the user's --configfile files and --config values go over it, key by key
# (pokernet/schemas/overlays.py: a --configfile no longer drops the profile's overlay, a nested
# --config value is typed). The merged config is validated before any job runs.
configfile: "workflow/config/default.yaml"


try:
    _layered = layered_config(
        "workflow/config/default.yaml",
        workflow.overwrite_configfiles,
        workflow.config_settings.config,
        "workflow/config",
    )
    # epochs and seeds from the frozen protocol the config names (workflow/protocol.yaml): one answer
    _layered = with_protocol(_layered)
except ValueError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_layered)


# The HTML report's front page (`snakemake --report results/report.html`): a short map of the
# report; each table, figure and narrative page carries its own caption (workflow/report/<name>.rst).
report: "workflow/report/workflow.rst"


# Size first: a YAML alias bomb in an overlay would hang the validation below (upstream formats
# the whole value into its error message).
try:
    check_size(config, "the workflow config")
except ValueError as error:
    raise WorkflowError(str(error)) from None
validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/site.smk"
include: "workflow/rules/common.smk"
include: "workflow/rules/complexity.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/latency.smk"
include: "workflow/rules/report.smk"


rule tables:
    default_target: True
    input:
        rules.table2.output,
        rules.table3.output,
        rules.table4.output,
        rules.table5.output,
        rules.fig5.output,
        rules.fig6.output,
        rules.learning_curves.output,
        rules.summary.output,
        rules.calibration.output,
        rules.verdicts.output,
        rules.audit.output,
        PAGES,
        NARRATIVE_PAGES,


rule ablation_se:
    input:
        rules.table4.output,


rule ablation_nl:
    input:
        rules.table5.output,


rule smoke:
    input:
        rules.tables.input,
