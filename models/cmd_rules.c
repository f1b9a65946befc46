/* sb_model rules: the seed's sizing rules, each derived from the catalog and given a verdict. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rules.h"

static const char usage[] =
    "Usage: sb_model rules [--rule ID] [--catalog DIR] [--json]\n"
    "  Each rule of sizing-rules.md: claim, claimed value, derived value with unit and\n"
    "  arithmetic, verdict holds / contradicted / unverifiable (holds within 5%%).\n"
    "  Exit 1 when a rule is contradicted (R8 is, by the catalog), 0 otherwise.\n"
    "  --json: one object per rule (JSON Lines).\n";

static json_t *range_json(double lo, double hi)
{
    return lo == hi ? json_real(lo) : json_pack("[f, f]", lo, hi);
}

static void print_rule(const struct sbm_rule_result *r, bool json)
{
    bool claimed = strlen(r->unit) > 0;
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->id, "claim", r->claim,
                              "unit", r->unit, "arithmetic", r->arithmetic, "verdict", r->verdict,
                              "system", r->system);
        json_object_set_new(o, "claimed", claimed ? range_json(r->claimed_lo, r->claimed_hi) : json_null());
        json_object_set_new(o, "derived", r->has_derived ? range_json(r->derived_lo, r->derived_hi) : json_null());
        sbm_cli_print_json(o);
        return;
    }
    char c[48] = "-", d[48] = "-";
    if (claimed)
        snprintf(c, sizeof c, r->claimed_lo == r->claimed_hi ? "%.4g" : "%.4g-%.4g", r->claimed_lo, r->claimed_hi);
    if (r->has_derived)
        snprintf(d, sizeof d, r->derived_lo == r->derived_hi ? "%.4g" : "%.4g-%.4g", r->derived_lo, r->derived_hi);
    printf("%-4s %-13s %s\n     claimed %s %s, derived %s %s (%s)\n     %s\n", r->id, r->verdict,
           r->claim, c, r->unit, d, r->unit, r->system[0] ? r->system : "catalog", r->arithmetic);
}

int sbm_cmd_rules(int argc, char **argv)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"rule", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *dir = NULL, *only = NULL;
    bool json = false;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        if (c == 'h') return fputs(usage, stdout), 0;
        else if (c == 'C') dir = optarg;
        else if (c == 'r') only = optarg;
        else if (c == 'j') json = true;
        else return sbm_cli_fail("rules: unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return sbm_cli_fail("rules: unexpected argument '%s'", argv[optind]);
    struct sbm_catalog cat;
    if (sbm_cli_load_catalog(dir, &cat) != SBM_OK)
        return SBM_BAD_INPUT;
    struct sbm_rule_result rows[SBM_RULES_MAX];
    int n = sbm_rules_evaluate(&cat, only, rows, SBM_RULES_MAX), contradicted = 0;
    sbm_catalog_free(&cat);
    if (n == 0)
        return sbm_cli_fail("rules: unknown rule '%s' (R1 ... R13, R1b ...)", only);
    for (int i = 0; i < n; i++) {
        print_rule(&rows[i], json);
        contradicted += strcmp(rows[i].verdict, "contradicted") == 0;
    }
    if (!json)
        printf("\n# %d rules: %d contradicted by the catalog\n", n, contradicted);
    return contradicted ? SBM_CHECK_FAILED : SBM_OK;
}
