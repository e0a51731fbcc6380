# Params and MAdds of every variant, and the architecture audit.


rule complexity_variant:
    conda:
        ENV
    output:
        f"{WORK}/complexity/{{variant}}.json",
    log:
        f"{LOGS}/complexity/{{variant}}.log",
    params:
        model=lambda wc: variant_options(wc.variant)[0],
        flags=lambda wc: cli_flags(variant_options(wc.variant)[1]),
    shell:
        "pokernet complexity {params.model} {params.flags} --json > {output} 2> {log}"


rule audit:
    input:
        paper=PAPER,
    conda:
        ENV
    output:
        report(f"{RESULTS}/architecture_audit.md", category="Architecture"),
    log:
        f"{LOGS}/audit.log",
    shell:
        "pokernet audit --out {output} > {log} 2>&1"


rule claim_counts:
    # The counts behind three claims of the text (pointwise share, width exponent, Ghost/Poker choice).
    input:
        paper=PAPER,
    conda:
        ENV
    output:
        f"{WORK}/claims/counts.json",
    log:
        f"{LOGS}/claims.log",
    shell:
        "pokernet claims --out {output} > {log} 2>&1"


rule complexity:
    input:
        complexity_files(set(TABLE2_VARIANTS) | set(ablation_variants("table4")) | set(ablation_variants("table5"))),
        rules.audit.output,
        rules.claim_counts.output,
