/* Fitted parameters as JSON: what `fit --save` writes and `predict/validate --params` read. */
#ifndef SBM_PARAMS_H
#define SBM_PARAMS_H

#include <jansson.h>

#include "error.h"
#include "fit.h"

struct sbm_params {
    struct sbm_fit *fits;
    size_t n;
};

/* One fit as a JSON object (the fields of `fit --json`); residuals only when asked. */
json_t *sbm_fit_to_json(const struct sbm_fit *fit, int with_residuals);

int sbm_params_save(const char *path, const struct sbm_fit *fits, size_t n, const char *from,
                    struct sbm_error *err);
int sbm_params_load(const char *path, struct sbm_params *params, struct sbm_error *err);
void sbm_params_free(struct sbm_params *params);

/* The fit for COLLECTIVE: the one of RANKS ranks if present, else the one of most ranks;
 * backend and memory must match when given (non-NULL). NULL when none. */
const struct sbm_fit *sbm_params_find(const struct sbm_params *params, const char *collective,
                                      int ranks, const char *backend, const char *memory);

/* The fit for a measured curve: one of its collective, backend, memory and placement (in_place:
 * an in-place 1-rank AllReduce is a no-op, its out-of-place twin a copy), preferring the same
 * ranks (else the most ranks, as sbm_params_find), then dtype, then op. NULL when none. */
const struct sbm_fit *sbm_params_find_curve(const struct sbm_params *params, const struct sbm_point *curve);

#endif
