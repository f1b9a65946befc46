/* The hardware catalog: every *.json file of one folder, merged by section (gpus, switches,
 * nics, media, efficiencies, latencies, systems). Every number is {"value": N, "source": "..."}:
 * loading refuses a bare number, so no figure enters a model without its source. */
#ifndef SBM_CATALOG_H
#define SBM_CATALOG_H

#include <jansson.h>

#include "error.h"

#define SBM_CATALOG_SECTIONS 7

struct sbm_catalog {
    char dir[512];
    json_t *section[SBM_CATALOG_SECTIONS]; /* merged objects, in sbm_catalog_section_names order */
};

extern const char *const sbm_catalog_section_names[SBM_CATALOG_SECTIONS];

int sbm_catalog_load(const char *dir, struct sbm_catalog *cat, struct sbm_error *err);
void sbm_catalog_free(struct sbm_catalog *cat);

/* The entry NAME of section SECTION ("systems", "gpus", ...), or NULL. */
json_t *sbm_catalog_entry(const struct sbm_catalog *cat, const char *section, const char *name);
json_t *sbm_catalog_section(const struct sbm_catalog *cat, const char *section);

/* The sourced number at KEY of OBJ ({"value", "source"}); OWNER names OBJ in the message. */
int sbm_sourced_number(json_t *obj, const char *key, const char *owner, double *value,
                       const char **source, struct sbm_error *err);

/* The value of a named parameter: SECTION ("efficiencies", "latencies") entry NAME. */
int sbm_catalog_parameter(const struct sbm_catalog *cat, const char *section, const char *name,
                          double *value, const char **source, struct sbm_error *err);

#endif
