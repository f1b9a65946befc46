/* sb_model: the models of scalebench from one command line (see README, "Models").
 * Exit 0 on success, 1 when a validation or rule check fails, 2 on bad usage or input. */
#include <stdio.h>
#include <string.h>

#include "../common/stdout_status.h"
#include "cli.h"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"systems", sbm_cmd_systems, "list the hardware catalog"},
    {"predict", sbm_cmd_predict, "time, algbw and busbw of a collective on a system"},
    {"fit", sbm_cmd_fit, "alpha, beta (gamma) from measured JSON Lines"},
    {"validate", sbm_cmd_validate, "measured against predicted, per size"},
    {"size", sbm_cmd_size, "switches, trays, cables and optics of a system's fabrics"},
    {"rules", sbm_cmd_rules, "the seed's sizing rules R1-R13, derived and checked"},
    {"infer", sbm_cmd_infer, "LLM decode: tok/s per GPU against tok/s per user, seed claims R10-R12"},
    {"demand", sbm_cmd_demand, "interconnect demand (R13): chips x bandwidth x optical tiers"},
    {"pairs", sbm_cmd_pairs, "sb_pairs matrices of bandwidth and latency, and the suspect nodes or links"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: sb_model SUBCOMMAND [options]   (sb_model SUBCOMMAND --help for details)\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "Every subcommand takes --json (machine-readable); all but fit and pairs read the\n"
                 "hardware catalog and take --catalog DIR (default %s).\n"
                 "Exit: 0 ok, 1 a validation or rule check failed, 2 bad usage or input.\n",
            SBM_DEFAULT_CATALOG);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr), 2;
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return usage(stdout), 0;
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return sb_stdout_status("sb_model", subcommands[i].run(argc - 1, argv + 1));
    return sbm_cli_fail("unknown subcommand '%s' (sb_model --help lists them)", argv[1]);
}
