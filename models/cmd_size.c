/* sb_model size: the scale-up and scale-out fabrics of a system, derived from ports and rates. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "sizing.h"

static const char usage[] =
    "Usage: sb_model size --system NAME [--gpus N] [--tiers 1|2|3] [--json]\n"
    "  Scale-up: one domain of the system with its tier count (N below the domain size sizes a\n"
    "  partial domain); scale-out: a fat tree of the system's switch for N GPUs (default: one\n"
    "  domain) in --tiers tiers (default: the fewest that fit).\n"
    "  --json: one object per derived quantity (JSON Lines), with fabric, key, value, unit,\n"
    "  arithmetic (and medium for link classes).\n";

static void print_quantity(const char *fabric, const struct sbm_quantity *q, bool json)
{
    if (json) {
        sbm_cli_print_json(json_pack("{s:s, s:s, s:s, s:f, s:s, s:s, s:s?}", "fabric", fabric,
                                     "key", q->key, "label", q->label, "value", q->value, "unit",
                                     q->unit, "arithmetic", q->arithmetic, "medium",
                                     q->text[0] ? q->text : NULL));
        return;
    }
    if (q->text[0])
        printf("  %-48s %12s      %s\n", q->label, q->text, q->arithmetic);
    else if (q->value == floor(q->value) && fabs(q->value) < 1e15) /* a count: every digit */
        printf("  %-48s %12.0f %-10s %s\n", q->label, q->value, q->unit, q->arithmetic);
    else
        printf("  %-48s %12.4g %-10s %s\n", q->label, q->value, q->unit, q->arithmetic);
}

static void print_sizing(const char *fabric, const struct sbm_sizing *s, bool json)
{
    if (!json)
        printf("%s%s\n", fabric, s->unverifiable[0] ? ": unverifiable" : "");
    if (s->unverifiable[0] && !json)
        printf("  %s\n", s->unverifiable);
    if (s->unverifiable[0] && json)
        sbm_cli_print_json(json_pack("{s:s, s:s}", "fabric", fabric, "unverifiable", s->unverifiable));
    for (int i = 0; i < s->n; i++)
        print_quantity(fabric, &s->q[i], json);
}

/* Scale-up over scale-out, per GPU: connections and switches. */
static void print_ratios(const struct sbm_sizing *up, const struct sbm_sizing *out, bool json)
{
    const struct sbm_quantity *um = sbm_sizing_get(up, "t2_modules_1600g_per_gpu");
    const struct sbm_quantity *uc = sbm_sizing_get(up, "l2_chips_per_gpu");
    const struct sbm_quantity *om = sbm_sizing_get(out, "modules_1600g_per_gpu");
    const struct sbm_quantity *og = sbm_sizing_get(out, "gpus_per_switch");
    struct sbm_sizing r = {0};
    if (um && om) {
        struct sbm_quantity *q = &r.q[r.n++];
        snprintf(q->key, sizeof q->key, "connections_ratio");
        snprintf(q->label, sizeof q->label, "scale-up / scale-out connections per GPU");
        snprintf(q->unit, sizeof q->unit, "ratio");
        q->value = um->value / om->value;
        snprintf(q->arithmetic, sizeof q->arithmetic, "%.4g / %.4g (1.6T equivalents)", um->value, om->value);
    }
    if (uc && og) {
        struct sbm_quantity *q = &r.q[r.n++];
        snprintf(q->key, sizeof q->key, "switches_ratio");
        snprintf(q->label, sizeof q->label, "scale-up / scale-out switches per GPU");
        snprintf(q->unit, sizeof q->unit, "ratio");
        q->value = uc->value * og->value;
        snprintf(q->arithmetic, sizeof q->arithmetic, "%.4g tier-2 chips per GPU x %.4g GPUs per switch",
                 uc->value, og->value);
    }
    if (r.n == 0)
        snprintf(r.unverifiable, sizeof r.unverifiable, "no second scale-up tier or no scale-out switch");
    print_sizing("ratios", &r, json);
}

int sbm_cmd_size(int argc, char **argv)
{
    static const struct option opts[] = {
        {"catalog", required_argument, NULL, 'C'}, {"system", required_argument, NULL, 's'},
        {"gpus", required_argument, NULL, 'g'}, {"tiers", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *dir = NULL, *system = NULL;
    int gpus = 0, tiers = 0;
    bool json = false;
    opterr = 0;
    for (int c, i = 0; (c = getopt_long(argc, argv, ":h", opts, &i)) != -1; i = 0) {
        if (c == 'h') return fputs(usage, stdout), 0;
        else if (c == 'C') dir = optarg;
        else if (c == 's') system = optarg;
        else if (c == 'j') json = true;
        else if (c == 'g' && sbm_cli_parse_int(optarg, &gpus) == 0) continue;
        else if (c == 't' && sbm_cli_parse_int(optarg, &tiers) == 0 && tiers <= 3) continue;
        else if (c == 'g' || c == 't')
            return sbm_cli_fail("size: invalid --%s '%s'", opts[i].name, optarg);
        else
            return sbm_cli_fail("size: unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return sbm_cli_fail("size: unexpected argument '%s'", argv[optind]);
    if (!system)
        return sbm_cli_fail("size: --system NAME is required");
    if (gpus == 1) /* nothing to connect: no switch, cable or optic to count */
        return sbm_cli_fail("size: --gpus 1: a single GPU needs no fabric (give 2 or more)");
    struct sbm_catalog cat;
    struct sbm_system sys;
    struct sbm_error err;
    if (sbm_cli_load_catalog(dir, &cat) != SBM_OK)
        return SBM_BAD_INPUT;
    int rc = sbm_system_resolve(&cat, system, &sys, &err);
    struct sbm_sizing up, out;
    int n = gpus ? gpus : sys.up.domain_gpus;
    if (rc == SBM_OK && sbm_size_scale_out(&cat, &sys, gpus, tiers, &out) != 0)
        rc = tiers ? sbm_error_set(&err, "size: %d GPUs do not fit a %d-tier fat tree of %s", n,
                                   tiers, sys.out.sw.id)
                   : sbm_error_set(&err, "size: %d GPUs need more than 3 tiers of %s (3 tiers of "
                                   "radix %d hold %g switch ports; the model sizes 1 to 3 tiers)",
                                   n, sys.out.sw.id, sys.out.sw.ports,
                                   sbm_fat_tree_capacity(sys.out.sw.ports, 3));
    if (rc == SBM_OK) {
        /* Scale-up is sized per domain (a smaller N sizes a partial domain). */
        sbm_size_scale_up(&cat, &sys, gpus && gpus < sys.up.domain_gpus ? gpus : 0, &up);
        if (!json)
            printf("# %s: %s\n", sys.id, sys.name);
        print_sizing("scale-up", &up, json);
        print_sizing("scale-out", &out, json);
        print_ratios(&up, &out, json);
    }
    sbm_catalog_free(&cat);
    return sbm_cli_report(rc, &err);
}
