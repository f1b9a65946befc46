/* The inference model (issue 6): one decode step of a transformer served on a scale-up domain.
 * Per layer a roofline (weights read once per micro-batch, KV cache read per sequence), the TP
 * AllReduces and the EP dispatch and combine costed with cost.h (or fitted parameters), and
 * pipeline stages; swept over layouts and batch sizes into the Pareto curve of per-GPU against
 * per-user tokens/s. LLM descriptions come from the models/llms folder (JSON, every number
 * with a source). */
#ifndef SBM_INFER_H
#define SBM_INFER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "params.h"
#include "system.h"

/* ---- LLM descriptions (infer_llm.c) ---- */

struct sbm_llm {
    char id[64], name[160];
    bool mla;                    /* multi-head latent attention (DeepSeek) instead of GQA */
    int layers, dense_layers;    /* dense_layers: layers with a dense MLP in an MoE model */
    int hidden, heads, kv_heads, head_dim, ffn, mlp_matrices, vocab;
    int q_lora_rank, kv_lora_rank, rope_head_dim; /* MLA only */
    int experts, top_k, shared_experts, expert_ffn; /* 0 experts: dense */
    bool tied_embeddings;
    double bytes_per_weight, bytes_per_activation, bytes_per_kv;
    double published_params_b;
};

/* Named efficiencies of the roofline (serving section of the llms folder). */
struct sbm_serving {
    double hbm_efficiency, compute_efficiency, hbm_usable, claim_tolerance;
};

struct sbm_llm_catalog {
    char dir[512];
    json_t *llms, *serving;
};

int sbm_llm_catalog_load(const char *dir, struct sbm_llm_catalog *cat, struct sbm_error *err);
void sbm_llm_catalog_free(struct sbm_llm_catalog *cat);
int sbm_llm_resolve(const struct sbm_llm_catalog *cat, const char *id, struct sbm_llm *m,
                    struct sbm_error *err);
int sbm_serving_resolve(const struct sbm_llm_catalog *cat, struct sbm_serving *s,
                        struct sbm_error *err);

static inline bool sbm_llm_is_moe(const struct sbm_llm *m) { return m->experts > 0; }
int sbm_llm_moe_layers(const struct sbm_llm *m);
/* Parameter counts (elements, not bytes). */
double sbm_llm_attention_params(const struct sbm_llm *m);        /* per layer */
double sbm_llm_mlp_params(const struct sbm_llm *m, int ffn);     /* one MLP or expert */
double sbm_llm_embedding_params(const struct sbm_llm *m);        /* input + output */
double sbm_llm_total_params(const struct sbm_llm *m);
double sbm_llm_active_params(const struct sbm_llm *m);           /* per token */
/* KV cache bytes of one token in one layer (GQA: 2 kv_heads head_dim; MLA: the latent). */
double sbm_llm_kv_bytes_per_token_layer(const struct sbm_llm *m);
/* FLOPs of the attention scores and values of one token over CTX cached tokens, one layer. */
double sbm_llm_attention_core_flops(const struct sbm_llm *m, double ctx);

/* ---- hardware the step runs on ---- */

enum sbm_precision { SBM_PREC_NATIVE, SBM_PREC_BF16, SBM_PREC_FP8, SBM_PREC_FP4 };
int sbm_precision_parse(const char *name, enum sbm_precision *p);
const char *sbm_precision_name(enum sbm_precision p);

/* How collectives are costed: the catalog's fabric, or fitted parameters per collective. */
struct sbm_comm {
    const struct sbm_system *sys;
    const struct sbm_params *params; /* NULL: catalog only */
};

struct sbm_infer_hw {
    double hbm_gbytes, hbm_tbytes_s, tflops; /* per GPU, tflops at the chosen precision */
    int domain_gpus;
    struct sbm_comm comm;
};

/* Fills HW from SYS at precision P (the GPU's dense_tflops_<p>; bf16 for native 2-byte weights,
 * fp8 for 1-byte). Sets M's bytes_per_weight when P is not native. */
int sbm_infer_hw_make(const struct sbm_catalog *cat, const struct sbm_system *sys,
                      enum sbm_precision p, struct sbm_llm *m, struct sbm_infer_hw *hw,
                      struct sbm_error *err);

/* Time of one collective of BYTES on RANKS ranks inside the domain, us (0 for one rank). */
double sbm_comm_allreduce_us(const struct sbm_comm *c, int ranks, double bytes);
double sbm_comm_alltoall_us(const struct sbm_comm *c, int ranks, double bytes);
/* A point-to-point send of BYTES between pipeline stages: inside the domain (fitted or
 * catalog), or across domains over the catalog's scale-out tier. */
double sbm_comm_hop_us(const struct sbm_comm *c, bool cross_domain, double bytes);

/* ---- one decode step (infer.c) ---- */

/* A replica: pp stages of `width` GPUs each; tp and ep stay inside one scale-up domain, the
 * stages may span domains (the hop between them then goes over the scale-out network). Attention runs tensor-parallel over tp GPUs
 * (width/tp data-parallel attention groups in an MoE model); experts are spread over ep GPUs,
 * each expert split over width/ep. Dense models: width = tp, ep = 1. */
struct sbm_layout {
    int tp, ep, pp;
};

int sbm_layout_width(const struct sbm_layout *l);
int sbm_layout_gpus(const struct sbm_layout *l);
/* 0 when valid for M with stages inside a domain of DOMAIN GPUs; -1 otherwise. */
int sbm_layout_check(const struct sbm_layout *l, const struct sbm_llm *m, int domain);

struct sbm_step {
    double step_ms;                         /* time between two tokens of one sequence */
    double compute_ms, memory_ms;           /* roofline: the bound side of each layer */
    double tp_comm_ms, ep_comm_ms, pp_comm_ms;
    double pp_bubble;                       /* fraction of stage time idle (micro-batches < pp) */
    double tok_s_per_user, tok_s_per_gpu;
    double weights_gbytes_per_gpu, kv_gbytes_per_gpu;
    bool fits;                              /* weights + KV within the usable HBM */
};

struct sbm_infer_case {
    const struct sbm_llm *model;
    const struct sbm_serving *serving;
    const struct sbm_infer_hw *hw;
    double context;          /* cached tokens per sequence, on average over its decode */
    bool replica_in_domain;  /* forbid pipeline stages in other scale-up domains */
};

/* Stage-to-stage hops of one token's round that cross scale-up domains (0: all inside). */
int sbm_layout_cross_hops(const struct sbm_layout *l, int domain);

/* Weights and KV cache per GPU, bytes, for BATCH sequences in the replica. */
double sbm_infer_weight_bytes_per_gpu(const struct sbm_infer_case *c, const struct sbm_layout *l);
double sbm_infer_kv_bytes_per_gpu(const struct sbm_infer_case *c, const struct sbm_layout *l,
                                  double batch);
/* The largest batch that fits (0: not even the weights). */
double sbm_infer_max_batch(const struct sbm_infer_case *c, const struct sbm_layout *l);

void sbm_infer_step(const struct sbm_infer_case *c, const struct sbm_layout *l, double batch,
                    struct sbm_step *out);

/* Memory wall: the smallest replica (GPUs) in which weights plus the KV cache of BATCH
 * sequences fit; LAYOUT gets that layout. 0 when none fits in the domain. */
int sbm_infer_memory_wall(const struct sbm_infer_case *c, double batch, struct sbm_layout *layout);

/* ---- sweep and Pareto curve (infer.c) ---- */

struct sbm_infer_point {
    struct sbm_layout layout;
    double batch;
    struct sbm_step step;
};

struct sbm_infer_points {
    struct sbm_infer_point *v;
    size_t n, cap;
};

/* Every fitting (layout, batch) of the case, layouts bounded by the domain. */
int sbm_infer_sweep(const struct sbm_infer_case *c, struct sbm_infer_points *out);
void sbm_infer_points_free(struct sbm_infer_points *p);
/* The Pareto front (no point faster per user and per GPU), by per-user speed ascending. */
void sbm_infer_pareto(const struct sbm_infer_points *all, struct sbm_infer_points *front);
/* The best per-GPU rate with at least U tok/s per user (0 when none); WHICH gets the point. */
double sbm_infer_best_at(const struct sbm_infer_points *front, double u,
                         const struct sbm_infer_point **which);

/* ---- the seed's law S = a G^b U^c (infer_law.c) ---- */

struct sbm_law {
    double a, b, c, r2, max_rel_error;
    size_t n;
};

/* Least squares of ln S = ln a + b ln G + c ln U. -1 with fewer than 4 points or a singular
 * system (no spread in G or U). */
int sbm_law_fit(const double *s, const double *g, const double *u, size_t n, struct sbm_law *out);

/* ---- one system's curve, and the seed's claims R10-R12 (infer_claims.c) ---- */

struct sbm_infer_setup {
    const struct sbm_catalog *cat;
    const struct sbm_llm_catalog *llms;
    const char *model;             /* an llms id */
    enum sbm_precision precision;
    double context;
    const struct sbm_params *params; /* NULL: collectives from the catalog */
    bool replica_in_domain;
};

/* Everything one curve needs, self-referencing: build it in place and do not copy it. */
struct sbm_infer_curve {
    struct sbm_system sys;
    struct sbm_llm model;
    struct sbm_serving serving;
    struct sbm_infer_hw hw;
    struct sbm_infer_case c;
    struct sbm_infer_points all, front;
    int memory_wall_gpus;          /* weights + KV of one sequence; 0: not in the domain */
    struct sbm_layout memory_wall_layout;
};

int sbm_infer_curve_build(const struct sbm_infer_setup *s, const char *system,
                          struct sbm_infer_curve *out, struct sbm_error *err);
void sbm_infer_curve_free(struct sbm_infer_curve *curve);

/* One seed claim with the model's number and a verdict (holds, contradicted, unverifiable). */
struct sbm_claim {
    char id[8], claim[200], unit[32], verdict[16], arithmetic[600];
    double claimed, derived;
};

#define SBM_CLAIMS_MAX 16

/* R10-R12 for the setup's model (R12 on hgx-b200, gb200-nvl72, gb200-nvl576); the rows and
 * their count, -1 (with ERR) when a system or model cannot be resolved. */
int sbm_infer_claims(const struct sbm_infer_setup *s, struct sbm_claim *rows, int max,
                     struct sbm_error *err);

/* The law's data: for each (G, U) target the smallest replica reaching both on CURVE.
 * Returns the count written (at most MAX). */
size_t sbm_infer_law_points(const struct sbm_infer_curve *curve, double *s, double *g, double *u,
                            size_t max);

#endif
