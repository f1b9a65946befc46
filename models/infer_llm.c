/* LLM descriptions (the JSON files of models/llms), their parameter counts, and the hardware and
 * collective costs a decode step runs on. */
#include "infer.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict.h"

/* ---- loading ---- */

static int merge(json_t *into, json_t *section, const char *what, const char *path,
                 struct sbm_error *err)
{
    if (!json_is_object(section))
        return sbm_error_set(err, "%s: '%s' is not an object", path, what);
    const char *name;
    json_t *v;
    json_object_foreach(section, name, v) {
        if (json_object_get(into, name))
            return sbm_error_set(err, "%s: %s '%s' is defined twice", path, what, name);
        json_t *copy = json_deep_copy(v);
        if (json_is_object(copy)) /* remembered for messages that name the file */
            json_object_set_new(copy, "_file", json_string(path));
        json_object_set_new(into, name, copy);
    }
    return SBM_OK;
}

static int load_llm_file(struct sbm_llm_catalog *cat, const char *path, struct sbm_error *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return sbm_error_set(err, "%s:%d: invalid JSON: %s", path, jerr.line, jerr.text);
    int rc = json_is_object(root) ? SBM_OK : sbm_error_set(err, "%s: not a JSON object", path);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (rc != SBM_OK)
            break;
        if (strcmp(key, "llms") == 0)
            rc = merge(cat->llms, v, "llm", path, err);
        else if (strcmp(key, "serving") == 0)
            rc = merge(cat->serving, v, "serving parameter", path, err);
        else if (strcmp(key, "about") != 0)
            rc = sbm_error_set(err, "%s: unknown section '%s' (llms, serving, about)", path, key);
    }
    json_decref(root);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sbm_llm_catalog_load(const char *dir, struct sbm_llm_catalog *cat, struct sbm_error *err)
{
    memset(cat, 0, sizeof *cat);
    snprintf(cat->dir, sizeof cat->dir, "%s", dir);
    DIR *d = opendir(dir);
    if (!d)
        return sbm_error_set(err, "cannot open LLM directory '%s'", dir);
    char *names[256];
    size_t n = 0;
    for (struct dirent *e = readdir(d); e && n < 256; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    cat->llms = json_object();
    cat->serving = json_object();
    int rc = n ? SBM_OK : sbm_error_set(err, "LLM directory '%s' has no *.json file", dir);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == SBM_OK)
            rc = load_llm_file(cat, path, err);
        free(names[i]);
    }
    if (rc != SBM_OK)
        sbm_llm_catalog_free(cat);
    return rc;
}

void sbm_llm_catalog_free(struct sbm_llm_catalog *cat)
{
    json_decref(cat->llms);
    json_decref(cat->serving);
    cat->llms = cat->serving = NULL;
}

/* ---- one field: {"value": N, "source": "..."}, named by file, llm and field on error ---- */

struct field_ctx {
    json_t *entry;
    const char *file, *id;
    struct sbm_error *err;
};

static int number_field(const struct field_ctx *f, const char *key, double lo, double hi,
                        bool whole, double *out)
{
    json_t *n = json_object_get(f->entry, key);
    json_t *v = json_object_get(n, "value");
    if (!json_is_number(v) || !json_is_string(json_object_get(n, "source")))
        return sbm_error_set(f->err, "%s: llms.%s.%s: missing or not {\"value\": N, \"source\": \"...\"}",
                             f->file, f->id, key);
    double x = json_number_value(v);
    if (x < lo || x > hi || (whole && x != floor(x)))
        return sbm_error_set(f->err, "%s: llms.%s.%s: %g is out of range (%s %g to %g)", f->file,
                             f->id, key, x, whole ? "a whole number" : "a number", lo, hi);
    *out = x;
    return SBM_OK;
}

static int int_field(const struct field_ctx *f, const char *key, int lo, int *out)
{
    double x = 0;
    int rc = number_field(f, key, lo, 1e9, true, &x);
    *out = (int)x;
    return rc;
}

/* Fields an MoE or MLA model needs, absent (0) otherwise. */
static int optional_int(const struct field_ctx *f, const char *key, bool needed, int lo, int *out)
{
    *out = 0;
    if (!needed && !json_object_get(f->entry, key))
        return SBM_OK;
    return int_field(f, key, lo, out);
}

static int read_shape(const struct field_ctx *f, struct sbm_llm *m)
{
    double tied = 0;
    int rc = int_field(f, "layers", 1, &m->layers) || int_field(f, "hidden", 1, &m->hidden) ||
             int_field(f, "heads", 1, &m->heads) || int_field(f, "kv_heads", 1, &m->kv_heads) ||
             int_field(f, "head_dim", 1, &m->head_dim) || int_field(f, "ffn", 1, &m->ffn) ||
             int_field(f, "mlp_matrices", 2, &m->mlp_matrices) ||
             int_field(f, "vocab", 1, &m->vocab) ||
             number_field(f, "tied_embeddings", 0, 1, true, &tied) ||
             optional_int(f, "q_lora_rank", m->mla, 1, &m->q_lora_rank) ||
             optional_int(f, "kv_lora_rank", m->mla, 1, &m->kv_lora_rank) ||
             optional_int(f, "rope_head_dim", m->mla, 1, &m->rope_head_dim) ||
             optional_int(f, "experts", false, 1, &m->experts);
    m->tied_embeddings = tied > 0;
    if (rc)
        return SBM_BAD_INPUT;
    if (m->mlp_matrices > 3)
        return sbm_error_set(f->err, "%s: llms.%s.mlp_matrices: 2 (up, down) or 3 (gated)", f->file, f->id);
    bool moe = m->experts > 0;
    return optional_int(f, "top_k", moe, 1, &m->top_k) ||
           optional_int(f, "shared_experts", moe, 0, &m->shared_experts) ||
           optional_int(f, "expert_ffn", moe, 1, &m->expert_ffn) ||
           optional_int(f, "dense_layers", false, 0, &m->dense_layers);
}

static int check_shape(const struct field_ctx *f, const struct sbm_llm *m)
{
    if (m->experts && m->top_k > m->experts)
        return sbm_error_set(f->err, "%s: llms.%s.top_k: %d exceeds experts (%d)", f->file, f->id,
                             m->top_k, m->experts);
    if (m->dense_layers > m->layers)
        return sbm_error_set(f->err, "%s: llms.%s.dense_layers: %d exceeds layers (%d)", f->file,
                             f->id, m->dense_layers, m->layers);
    if (m->kv_heads > m->heads)
        return sbm_error_set(f->err, "%s: llms.%s.kv_heads: %d exceeds heads (%d)", f->file, f->id,
                             m->kv_heads, m->heads);
    return SBM_OK;
}

int sbm_llm_resolve(const struct sbm_llm_catalog *cat, const char *id, struct sbm_llm *m,
                    struct sbm_error *err)
{
    memset(m, 0, sizeof *m);
    json_t *e = json_object_get(cat->llms, id ? id : "");
    if (!e)
        return sbm_error_set(err, "unknown model '%s' (sb_model infer --list-models lists %s)",
                             id ? id : "(none)", cat->dir);
    struct field_ctx f = {e, json_string_value(json_object_get(e, "_file")), id, err};
    const char *attention = json_string_value(json_object_get(e, "attention"));
    if (!attention || (strcmp(attention, "gqa") != 0 && strcmp(attention, "mla") != 0))
        return sbm_error_set(err, "%s: llms.%s.attention: must be \"gqa\" or \"mla\"", f.file, id);
    snprintf(m->id, sizeof m->id, "%s", id);
    const char *name = json_string_value(json_object_get(e, "name"));
    snprintf(m->name, sizeof m->name, "%s", name ? name : id);
    m->mla = strcmp(attention, "mla") == 0;
    if (read_shape(&f, m) ||
        number_field(&f, "bytes_per_weight", 0.25, 4, false, &m->bytes_per_weight) ||
        number_field(&f, "bytes_per_activation", 0.5, 4, false, &m->bytes_per_activation) ||
        number_field(&f, "bytes_per_kv", 0.5, 4, false, &m->bytes_per_kv) ||
        number_field(&f, "published_params_b", 0.001, 1e6, false, &m->published_params_b))
        return SBM_BAD_INPUT;
    return check_shape(&f, m);
}

static int serving_value(const struct sbm_llm_catalog *cat, const char *key, double lo, double hi,
                         double *out, struct sbm_error *err)
{
    json_t *n = json_object_get(cat->serving, key);
    json_t *v = json_object_get(n, "value");
    if (!json_is_number(v) || !json_is_string(json_object_get(n, "source")))
        return sbm_error_set(err, "%s: serving.%s: missing or not {\"value\": N, \"source\": \"...\"}",
                             cat->dir, key);
    *out = json_number_value(v);
    if (*out < lo || *out > hi)
        return sbm_error_set(err, "%s: serving.%s: %g is out of range (%g to %g)", cat->dir, key,
                             *out, lo, hi);
    return SBM_OK;
}

int sbm_serving_resolve(const struct sbm_llm_catalog *cat, struct sbm_serving *s,
                        struct sbm_error *err)
{
    return serving_value(cat, "decode-hbm-efficiency", 0.01, 1, &s->hbm_efficiency, err) ||
                   serving_value(cat, "decode-compute-efficiency", 0.01, 1, &s->compute_efficiency, err) ||
                   serving_value(cat, "hbm-usable-fraction", 0.01, 1, &s->hbm_usable, err) ||
                   serving_value(cat, "claim-tolerance", 0, 10, &s->claim_tolerance, err)
               ? SBM_BAD_INPUT
               : SBM_OK;
}

/* ---- parameter counts ---- */

int sbm_llm_moe_layers(const struct sbm_llm *m)
{
    return sbm_llm_is_moe(m) ? m->layers - m->dense_layers : 0;
}

/* GQA: Q and O are hidden x heads*hd, K and V hidden x kv_heads*hd. MLA (DeepSeek-V3 report,
 * section 2.1): Q down/up through q_lora_rank, KV down to kv_lora_rank + rope, KV up to per-head
 * nope keys and values, O from heads*hd. */
double sbm_llm_attention_params(const struct sbm_llm *m)
{
    double h = m->hidden, qd = (double)m->heads * m->head_dim;
    if (!m->mla)
        return 2 * h * qd + 2 * h * m->kv_heads * (double)m->head_dim;
    double q = h * m->q_lora_rank + m->q_lora_rank * (double)m->heads * (m->head_dim + m->rope_head_dim);
    double kv = h * (m->kv_lora_rank + m->rope_head_dim) +
                m->kv_lora_rank * (double)m->heads * 2 * m->head_dim;
    return q + kv + qd * h;
}

double sbm_llm_mlp_params(const struct sbm_llm *m, int ffn)
{
    return (double)m->mlp_matrices * m->hidden * ffn;
}

double sbm_llm_embedding_params(const struct sbm_llm *m)
{
    return (m->tied_embeddings ? 1.0 : 2.0) * m->vocab * (double)m->hidden;
}

/* The MLP part of one layer: dense layers their MLP, MoE layers every expert plus the router. */
static double moe_layer_params(const struct sbm_llm *m, int experts)
{
    return experts * sbm_llm_mlp_params(m, m->expert_ffn) + (double)m->experts * m->hidden;
}

double sbm_llm_total_params(const struct sbm_llm *m)
{
    int moe = sbm_llm_moe_layers(m), dense = m->layers - moe;
    return m->layers * sbm_llm_attention_params(m) + dense * sbm_llm_mlp_params(m, m->ffn) +
           moe * moe_layer_params(m, m->experts + m->shared_experts) + sbm_llm_embedding_params(m);
}

double sbm_llm_active_params(const struct sbm_llm *m)
{
    int moe = sbm_llm_moe_layers(m), dense = m->layers - moe;
    return m->layers * sbm_llm_attention_params(m) + dense * sbm_llm_mlp_params(m, m->ffn) +
           moe * moe_layer_params(m, m->top_k + m->shared_experts) + sbm_llm_embedding_params(m);
}

double sbm_llm_kv_bytes_per_token_layer(const struct sbm_llm *m)
{
    double values = m->mla ? m->kv_lora_rank + m->rope_head_dim
                           : 2.0 * m->kv_heads * m->head_dim;
    return values * m->bytes_per_kv;
}

/* Scores (q.k) and weighted values, 2 FLOPs per multiply-add. MLA with absorbed projections
 * works in the latent space: scores over kv_lora_rank + rope, values over kv_lora_rank. */
double sbm_llm_attention_core_flops(const struct sbm_llm *m, double ctx)
{
    double per_head = m->mla ? 2.0 * m->kv_lora_rank + m->rope_head_dim : 2.0 * m->head_dim;
    return 2.0 * m->heads * per_head * ctx;
}

/* ---- hardware and collectives ---- */

static const char *const precision_names[] = {"native", "bf16", "fp8", "fp4"};

int sbm_precision_parse(const char *name, enum sbm_precision *p)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, precision_names[i]) == 0)
            return *p = (enum sbm_precision)i, 0;
    return -1;
}

const char *sbm_precision_name(enum sbm_precision p) { return precision_names[p]; }

static enum sbm_precision effective_precision(enum sbm_precision p, const struct sbm_llm *m)
{
    if (p != SBM_PREC_NATIVE)
        return p;
    return m->bytes_per_weight >= 2 ? SBM_PREC_BF16 : m->bytes_per_weight >= 1 ? SBM_PREC_FP8 : SBM_PREC_FP4;
}

int sbm_infer_hw_make(const struct sbm_catalog *cat, const struct sbm_system *sys,
                      enum sbm_precision p, struct sbm_llm *m, struct sbm_infer_hw *hw,
                      struct sbm_error *err)
{
    static const double bytes[] = {0, 2, 1, 0.5};
    enum sbm_precision e = effective_precision(p, m);
    char key[32], owner[96];
    snprintf(key, sizeof key, "dense_tflops_%s", precision_names[e]);
    snprintf(owner, sizeof owner, "gpu '%s' (for --precision %s)", sys->gpu.id, precision_names[e]);
    json_t *gpu = sbm_catalog_entry(cat, "gpus", sys->gpu.id);
    memset(hw, 0, sizeof *hw);
    if (sbm_sourced_number(gpu, key, owner, &hw->tflops, NULL, err) != SBM_OK)
        return SBM_BAD_INPUT;
    if (p != SBM_PREC_NATIVE)
        m->bytes_per_weight = bytes[p];
    hw->hbm_gbytes = sys->gpu.hbm_gbytes;
    hw->hbm_tbytes_s = sys->gpu.hbm_tbytes_s;
    hw->domain_gpus = sys->up.domain_gpus;
    hw->comm.sys = sys;
    return SBM_OK;
}

/* The fitted curve's time when --params has one for this collective, else the catalog's
 * fabric with the fastest algorithm. A fitted alpha already holds the launch cost. */
static double comm_us(const struct sbm_comm *c, enum sbm_collective coll, int ranks, double bytes)
{
    if (ranks <= 1)
        return 0;
    const struct sbm_fit *fit =
        c->params ? sbm_params_find(c->params, sbm_collective_name(coll), ranks, NULL, NULL) : NULL;
    if (fit)
        return sbm_fit_predict_us(fit, ranks, bytes);
    struct sbm_fabric f;
    if (!c->sys || sbm_fabric_from_system(c->sys, ranks, 1, &f, NULL) != SBM_OK)
        return INFINITY;
    double t;
    sbm_cost_best(coll, &f, bytes, &t);
    return t < 0 ? INFINITY : t;
}

double sbm_comm_allreduce_us(const struct sbm_comm *c, int ranks, double bytes)
{
    return comm_us(c, SBM_ALLREDUCE, ranks, bytes);
}

double sbm_comm_alltoall_us(const struct sbm_comm *c, int ranks, double bytes)
{
    return comm_us(c, SBM_ALLTOALL, ranks, bytes);
}

double sbm_comm_hop_us(const struct sbm_comm *c, bool cross_domain, double bytes)
{
    /* A pairwise exchange of 2 n on 2 ranks costs alpha + n beta: a send of n. */
    if (!cross_domain)
        return comm_us(c, SBM_ALLTOALL, 2, 2 * bytes);
    struct sbm_fabric f;
    double t;
    if (!c->sys || sbm_fabric_from_system(c->sys, 2, 2, &f, NULL) != SBM_OK)
        return INFINITY;
    sbm_cost_best(SBM_ALLTOALL, &f, 2 * bytes, &t);
    return t < 0 ? INFINITY : t;
}
