# Tables 2-5, Figs. 5-6 and the claim summary, rendered by `pokernet report`; each result read as a
# page, and each narrative file, also as the HTML page the report shows inline (`pokernet report page`).
TABLE4_COMPLEXITY = complexity_files(ablation_variants("table4"))
TABLE5_COMPLEXITY = complexity_files(ablation_variants("table5"))
TABLE2_COMPLEXITY = complexity_files(TABLE2_VARIANTS)
RUN_CAVEATS = "pokernet/data/run_caveats.yaml"  # known defects of committed runs, by commit


rule table2:
    input:
        complexity=TABLE2_COMPLEXITY,
        runs=TABLE2_RUNS,
        paper=PAPER,
        proxy_notes=PROXY_NOTES,
        caveats=RUN_CAVEATS,
    output:
        md=f"{RESULTS}/table2.md",
        csv=f"{RESULTS}/table2.csv",
        rows=f"{RESULTS}/table2.json",
    log:
        f"{LOGS}/report/table2.log",
    conda:
        ENV
    shell:
        "pokernet report table2 --complexity {input.complexity:q} --runs {input.runs:q} "
        "--out {output.md:q} > {log:q} 2>&1"


rule table3:
    input:
        latency=rules.latency.output,
        paper=PAPER,
    output:
        f"{RESULTS}/table3.md",
    log:
        f"{LOGS}/report/table3.log",
    conda:
        ENV
    shell:
        "pokernet report table3 --latency {input.latency:q} --out {output:q} > {log:q} 2>&1"


rule table4:
    input:
        complexity=TABLE4_COMPLEXITY,
        runs=TABLE4_RUNS,
        paper=PAPER,
        caveats=RUN_CAVEATS,
    output:
        md=f"{RESULTS}/table4.md",
        csv=f"{RESULTS}/table4.csv",
        rows=f"{RESULTS}/table4.json",
    log:
        f"{LOGS}/report/table4.log",
    conda:
        ENV
    shell:
        "pokernet report table4 --complexity {input.complexity:q} --runs {input.runs:q} "
        "--out {output.md:q} > {log:q} 2>&1"


rule table5:
    input:
        complexity=TABLE5_COMPLEXITY,
        runs=TABLE5_RUNS,
        paper=PAPER,
        caveats=RUN_CAVEATS,
    output:
        md=f"{RESULTS}/table5.md",
        csv=f"{RESULTS}/table5.csv",
        rows=f"{RESULTS}/table5.json",
    log:
        f"{LOGS}/report/table5.log",
    conda:
        ENV
    shell:
        "pokernet report table5 --complexity {input.complexity:q} --runs {input.runs:q} "
        "--out {output.md:q} > {log:q} 2>&1"


rule fig5:
    input:
        paper=PAPER,
    output:
        report(f"{RESULTS}/fig5.png", caption="../report/fig5.rst", category="Figures"),
    log:
        f"{LOGS}/report/fig5.log",
    conda:
        ENV
    shell:
        "pokernet report fig5 --out {output:q} > {log:q} 2>&1"


rule fig6:
    input:
        complexity=TABLE2_COMPLEXITY,
        runs=TABLE2_RUNS,
        paper=PAPER,
    output:
        png=report(f"{RESULTS}/fig6.png", caption="../report/fig6.rst", category="Figures"),
        svg=f"{RESULTS}/fig6.svg",
    log:
        f"{LOGS}/report/fig6.log",
    conda:
        ENV
    shell:
        "pokernet report fig6 --complexity {input.complexity:q} --runs {input.runs:q} "
        "--out {output.png:q} > {log:q} 2>&1"


rule learning_curves:
    input:
        runs=sorted(set(TABLE2_RUNS) | set(TABLE4_RUNS) | set(TABLE5_RUNS)),
    output:
        png=report(f"{RESULTS}/learning_curves.png", caption="../report/learning_curves.rst", category="Figures"),
        svg=f"{RESULTS}/learning_curves.svg",
    log:
        f"{LOGS}/report/learning_curves.log",
    conda:
        ENV
    shell:
        "pokernet report learning_curves --runs {input.runs:q} --out {output.png:q} > {log:q} 2>&1"


rule summary:
    input:
        tables=[rules.table2.output.md, rules.table3.output, rules.table4.output.md, rules.table5.output.md],
        rows=[rules.table2.output.rows, rules.table4.output.rows, rules.table5.output.rows],
        complexity=sorted(set(TABLE2_COMPLEXITY) | set(TABLE4_COMPLEXITY) | set(TABLE5_COMPLEXITY)),
        latency=rules.latency.output,
        claims=rules.claim_counts.output,
        paper=PAPER,
    output:
        md=f"{RESULTS}/summary.md",
        csv=f"{RESULTS}/summary.csv",
    log:
        f"{LOGS}/report/summary.log",
    conda:
        ENV
    shell:
        "pokernet report summary --tables {input.tables:q} --complexity {input.complexity:q} "
        "--rows {input.rows:q} --latency {input.latency:q} --claims {input.claims:q} "
        "--out {output.md:q} > {log:q} 2>&1"


# The report shows an HTML file inline and a .md only as a download: the summary, the tables and the
# audit are its pages (results/html/NAME.html), captioned by workflow/report/NAME.rst (page.rst).
PAGE_CATEGORIES = {"summary": "Summary", "architecture_audit": "Architecture"}
NARRATIVE = ["models", "training", "gpu_study", "latency", "running"]


rule page:
    input:
        f"{RESULTS}/{{name}}.md",
    output:
        report(
            f"{RESULTS}/html/{{name}}.html",
            caption="../report/page.rst",
            category=lambda wildcards: PAGE_CATEGORIES.get(wildcards.name, "Tables"),
        ),
    log:
        f"{LOGS}/report/page_{{name}}.log",
    wildcard_constraints:
        name="summary|table[2-5]|architecture_audit",
    conda:
        ENV
    shell:
        "pokernet report page --source {input:q} --out {output:q} > {log:q} 2>&1"


# The measurement narrative (workflow/report/NAME.rst), one page each under Narrative.
rule narrative_page:
    input:
        "workflow/report/{name}.rst",
    output:
        report(f"{RESULTS}/html/narrative/{{name}}.html", category="Narrative"),
    log:
        f"{LOGS}/report/narrative_{{name}}.log",
    wildcard_constraints:
        name="|".join(NARRATIVE),
    conda:
        ENV
    shell:
        "pokernet report page --source {input:q} --out {output:q} > {log:q} 2>&1"


PAGES = expand(
    f"{RESULTS}/html/{{name}}.html", name=["summary", "table2", "table3", "table4", "table5", "architecture_audit"]
)
NARRATIVE_PAGES = expand(f"{RESULTS}/html/narrative/{{name}}.html", name=NARRATIVE)


rule calibration:
    # How the proxy maps ImageNet (issue 29 item 2): proxy vs paper top-1, the fit and its band.
    input:
        rows=rules.table2.output.rows,
        paper=PAPER,
    output:
        png=report(f"{RESULTS}/calibration.png", caption="../report/calibration.rst", category="Summary"),
        svg=f"{RESULTS}/calibration.svg",
    log:
        f"{LOGS}/report/calibration.log",
    conda:
        ENV
    shell:
        "pokernet report calibration --rows {input.rows:q} --out {output.png:q} > {log:q} 2>&1"


rule verdicts:
    # One forest plot of every accuracy comparison, drawn from summary.csv (issue 26 item 2).
    input:
        summary=rules.summary.output.csv,
    output:
        png=report(f"{RESULTS}/verdicts.png", caption="../report/verdicts.rst", category="Summary"),
        svg=f"{RESULTS}/verdicts.svg",
    log:
        f"{LOGS}/report/verdicts.log",
    conda:
        ENV
    shell:
        "pokernet report verdicts --summary {input.summary:q} --out {output.png:q} > {log:q} 2>&1"
