# A SLURM site's settings from the config (key `slurm`, set with --configfile like the rest of the
# study), applied as resources here rather than in a profile's default-resources/set-resources
# lists: a command-line --default-resources or --set-resources then adds to them and overrides only
# the resources it names, instead of replacing the profile's whole list. Included before any rule.
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


_site_default_resources()
# The latency job holds a node alone (its timings); 16 GB, 2 h.
_site_rule_resources("latency", slurm_extra="'--exclusive'", mem_mb=16000, runtime=120)
