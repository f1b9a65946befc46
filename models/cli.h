/* Shared pieces of the sb_model subcommands (the CLI, not the library). */
#ifndef SBM_CLI_H
#define SBM_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "catalog.h"
#include "error.h"

#ifndef SB_CATALOG_DIR
#define SB_CATALOG_DIR "models/systems"
#endif
#ifndef SB_CATALOG_INSTALLED
#define SB_CATALOG_INSTALLED SB_CATALOG_DIR
#endif

/* The default catalog (or LLM) directory: the source tree's when it is there (a build tree),
 * else the installed copy (make install puts it under $(pkgdatadir)). */
const char *sbm_cli_data_dir(const char *source_dir, const char *installed_dir);
#define SBM_DEFAULT_CATALOG sbm_cli_data_dir(SB_CATALOG_DIR, SB_CATALOG_INSTALLED)

/* Prints "sb_model: MESSAGE" on stderr; returns SBM_BAD_INPUT. */
int sbm_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err's message the same way and returns RC. */
int sbm_cli_report(int rc, const struct sbm_error *err);

int sbm_cli_load_catalog(const char *dir, struct sbm_catalog *cat);
/* Writes O as one compact JSON line on stdout and releases it. */
void sbm_cli_print_json(json_t *o);
/* Parses a whole positive integer; -1 when invalid. */
int sbm_cli_parse_int(const char *text, int *out);
int sbm_cli_parse_fraction(const char *text, double *out);

int sbm_cmd_systems(int argc, char **argv);
int sbm_cmd_predict(int argc, char **argv);
int sbm_cmd_fit(int argc, char **argv);
int sbm_cmd_validate(int argc, char **argv);
int sbm_cmd_size(int argc, char **argv);
int sbm_cmd_rules(int argc, char **argv);
int sbm_cmd_infer(int argc, char **argv);
int sbm_cmd_demand(int argc, char **argv);
int sbm_cmd_pairs(int argc, char **argv);

#endif
