# Params and MAdds of every variant, and the architecture audit.


rule complexity_variant:
    conda:
        ENV
    output:
        f"{WORK}/complexity/{{variant}}.json",
    log:
        f"{LOGS}/complexity/{{variant}}.log",
    params:
        model=variant_model,
        flags=variant_flags,
    shell:
        "pokernet complexity {params.model} {params.flags:q} --json > {output} 2> {log}"


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
