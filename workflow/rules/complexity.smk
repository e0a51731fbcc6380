# Params and MAdds of every variant, and the architecture audit.


rule complexity_variant:
    output:
        f"{WORK}/complexity/{{variant}}.json",
    log:
        f"{LOGS}/complexity/{{variant}}.log",
    conda:
        ENV
    params:
        model=variant_model,
        flags=variant_flags,
    shell:
        "pokernet complexity {params.model:q} {params.flags:q} --json > {output:q} 2> {log:q}"


rule audit:
    input:
        paper=PAPER,
    output:
        f"{RESULTS}/architecture_audit.md",  # in the report as its page (report.smk)
    log:
        f"{LOGS}/audit.log",
    conda:
        ENV
    shell:
        "pokernet audit --out {output:q} > {log:q} 2>&1"


rule claim_counts:
    # The counts behind three claims of the text (pointwise share, width exponent, Ghost/Poker choice).
    input:
        paper=PAPER,
    output:
        f"{WORK}/claims/counts.json",
    log:
        f"{LOGS}/claims.log",
    conda:
        ENV
    shell:
        "pokernet claims --out {output:q} > {log:q} 2>&1"


rule complexity:
    input:
        complexity_files(set(TABLE2_VARIANTS) | set(ablation_variants("table4")) | set(ablation_variants("table5"))),
        rules.audit.output,
        rules.claim_counts.output,
