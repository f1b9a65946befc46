/* One decode step of an LLM on a scale-up domain, its memory, and the sweep into a Pareto curve.
 *
 * A replica is pp pipeline stages of W = max(tp, ep) GPUs. B sequences are split into
 * m = min(pp, B) micro-batches of b = ceil(B / m); each token of a sequence passes through every
 * stage, so the time between two tokens of one sequence (the step) is the sum over layers of the
 * per-layer roofline and communication for a micro-batch of b, plus the lm head and one
 * stage-to-stage hop per stage. Stages idle (pp - m) / pp of the time: the bubble. Communication
 * is not overlapped with compute (a decode layer waits for its AllReduce). */
#include "infer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sbm_layout_width(const struct sbm_layout *l) { return l->tp > l->ep ? l->tp : l->ep; }
int sbm_layout_gpus(const struct sbm_layout *l) { return sbm_layout_width(l) * l->pp; }

int sbm_layout_check(const struct sbm_layout *l, const struct sbm_llm *m, int domain)
{
    int w = sbm_layout_width(l);
    if (l->tp < 1 || l->ep < 1 || l->pp < 1 || w % l->tp || w % l->ep)
        return -1;
    /* Megatron-style TP gives each rank whole heads: tp divides the heads, and the KV heads
     * split evenly or are replicated whole (tp a multiple of them). */
    if (m->heads % l->tp || (!m->mla && m->kv_heads % l->tp && l->tp % m->kv_heads))
        return -1;
    if (l->pp > m->layers || w > domain)
        return -1;
    return sbm_llm_is_moe(m) ? (l->ep <= m->experts ? 0 : -1) : (l->ep == 1 ? 0 : -1);
}

/* Stages are packed floor(domain / W) to a domain; a round crosses each domain boundary once,
 * the last crossing bringing the sampled token back to the first stage. */
int sbm_layout_cross_hops(const struct sbm_layout *l, int domain)
{
    int per_domain = domain / sbm_layout_width(l);
    int domains = (l->pp + per_domain - 1) / per_domain;
    return domains > 1 ? domains : 0;
}

/* ---- memory ---- */

/* KV heads are split over tp up to one head per GPU, then replicated; MLA's latent is shared
 * by all heads, so every tp rank holds all of it. */
static double kv_shard(const struct sbm_llm *m, int tp)
{
    if (m->mla)
        return 1;
    return tp < m->kv_heads ? tp : m->kv_heads;
}

/* Weight elements of one MoE layer's MLP held by one GPU: its experts' shards, the shared
 * experts split over tp, the router. */
static double moe_mlp_params_per_gpu(const struct sbm_llm *m, const struct sbm_layout *l)
{
    int w = sbm_layout_width(l);
    double expert = sbm_llm_mlp_params(m, m->expert_ffn);
    return (double)m->experts / l->ep * expert / (w / l->ep) +
           (m->shared_experts * expert + (double)m->experts * m->hidden) / l->tp;
}

double sbm_infer_weight_bytes_per_gpu(const struct sbm_infer_case *c, const struct sbm_layout *l)
{
    const struct sbm_llm *m = c->model;
    int moe = sbm_llm_moe_layers(m), dense = m->layers - moe, w = sbm_layout_width(l);
    double per_replica_stage =
        m->layers * sbm_llm_attention_params(m) / l->tp + dense * sbm_llm_mlp_params(m, m->ffn) / l->tp +
        moe * moe_mlp_params_per_gpu(m, l) + sbm_llm_embedding_params(m) / w;
    return per_replica_stage / l->pp * m->bytes_per_weight;
}

double sbm_infer_kv_bytes_per_gpu(const struct sbm_infer_case *c, const struct sbm_layout *l,
                                  double batch)
{
    const struct sbm_llm *m = c->model;
    double seqs = batch * l->tp / sbm_layout_width(l); /* sequences per attention group */
    return seqs * c->context * sbm_llm_kv_bytes_per_token_layer(m) * m->layers / l->pp /
           kv_shard(m, l->tp);
}

static double usable_bytes(const struct sbm_infer_case *c)
{
    return c->hw->hbm_gbytes * 1e9 * c->serving->hbm_usable;
}

double sbm_infer_max_batch(const struct sbm_infer_case *c, const struct sbm_layout *l)
{
    double free_bytes = usable_bytes(c) - sbm_infer_weight_bytes_per_gpu(c, l);
    double per_seq = sbm_infer_kv_bytes_per_gpu(c, l, 1);
    if (free_bytes <= 0)
        return 0;
    return per_seq > 0 ? floor(free_bytes / per_seq) : 1e9;
}

/* ---- the step ---- */

/* Work of one GPU for one layer and one micro-batch: FLOPs, HBM bytes, collective time. */
struct work {
    double flops, bytes, tp_us, ep_us;
};

static void add_work(struct work *w, const struct work *x)
{
    w->flops += x->flops;
    w->bytes += x->bytes;
    w->tp_us += x->tp_us;
    w->ep_us += x->ep_us;
}

/* Attention of b_att sequences on tp GPUs: projections, scores over the cache, one AllReduce. */
static struct work attention_work(const struct sbm_infer_case *c, const struct sbm_layout *l,
                                  double b_att)
{
    const struct sbm_llm *m = c->model;
    double p = sbm_llm_attention_params(m) / l->tp;
    double kv = b_att * c->context * sbm_llm_kv_bytes_per_token_layer(m) / kv_shard(m, l->tp);
    return (struct work){
        .flops = 2 * p * b_att + sbm_llm_attention_core_flops(m, c->context) / l->tp * b_att,
        .bytes = p * m->bytes_per_weight + kv,
        .tp_us = sbm_comm_allreduce_us(&c->hw->comm, l->tp, b_att * m->hidden * m->bytes_per_activation),
    };
}

/* A dense MLP split over tp: one AllReduce after it. */
static struct work dense_mlp_work(const struct sbm_infer_case *c, const struct sbm_layout *l,
                                  int ffn, double b_att)
{
    const struct sbm_llm *m = c->model;
    double p = sbm_llm_mlp_params(m, ffn) / l->tp;
    return (struct work){
        .flops = 2 * p * b_att,
        .bytes = p * m->bytes_per_weight,
        .tp_us = sbm_comm_allreduce_us(&c->hw->comm, l->tp, b_att * m->hidden * m->bytes_per_activation),
    };
}

/* Routed experts: only those that receive a token are read. With b tokens each picking top_k
 * of E experts uniformly, an expert is used with probability 1 - (1 - k/E)^b. Dispatch and
 * combine are all-to-alls over the stage's W GPUs (each rank sends b k / ep token copies);
 * with ep = 1 the experts are tensor-parallel and end with an AllReduce instead. */
static struct work moe_mlp_work(const struct sbm_infer_case *c, const struct sbm_layout *l,
                                double b, double b_att)
{
    const struct sbm_llm *m = c->model;
    int w = sbm_layout_width(l);
    double expert = sbm_llm_mlp_params(m, m->expert_ffn), e = m->experts, k = m->top_k;
    double used = 1 - pow(1 - k / e, b);
    double shared = (m->shared_experts * expert + e * m->hidden) / l->tp;
    double routed_read = e / l->ep * used * expert / (w / l->ep);
    double token_bytes = m->hidden * m->bytes_per_activation;
    struct work x = {
        .flops = 2 * expert * b * k / w + 2 * shared * b_att,
        .bytes = (routed_read + shared) * m->bytes_per_weight,
    };
    if (l->ep > 1)
        x.ep_us = 2 * sbm_comm_alltoall_us(&c->hw->comm, w, b * k / l->ep * token_bytes);
    else
        x.tp_us = sbm_comm_allreduce_us(&c->hw->comm, l->tp, b_att * token_bytes);
    return x;
}

/* Adds N identical layers of work X to OUT: the roofline side that binds goes to compute or
 * memory, the collectives to their own terms (all in ms). */
static void account(const struct sbm_infer_case *c, const struct work *x, double n,
                    struct sbm_step *out)
{
    double compute_us = x->flops / (c->hw->tflops * 1e12 * c->serving->compute_efficiency) * 1e6;
    double memory_us = x->bytes / (c->hw->hbm_tbytes_s * 1e12 * c->serving->hbm_efficiency) * 1e6;
    if (compute_us >= memory_us)
        out->compute_ms += n * compute_us * 1e-3;
    else
        out->memory_ms += n * memory_us * 1e-3;
    out->tp_comm_ms += n * x->tp_us * 1e-3;
    out->ep_comm_ms += n * x->ep_us * 1e-3;
}

/* The output projection (vocabulary split over the stage's W GPUs), once per token. */
static struct work lm_head_work(const struct sbm_infer_case *c, const struct sbm_layout *l, double b)
{
    const struct sbm_llm *m = c->model;
    double p = (double)m->vocab * m->hidden / sbm_layout_width(l);
    return (struct work){.flops = 2 * p * b, .bytes = p * m->bytes_per_weight};
}

void sbm_infer_step(const struct sbm_infer_case *c, const struct sbm_layout *l, double batch,
                    struct sbm_step *out)
{
    const struct sbm_llm *m = c->model;
    memset(out, 0, sizeof *out);
    double micro = batch < l->pp ? batch : l->pp;
    double b = ceil(batch / micro), b_att = b * l->tp / sbm_layout_width(l);
    int moe = sbm_llm_moe_layers(m), dense = m->layers - moe;

    struct work layer = attention_work(c, l, b_att), mlp = dense_mlp_work(c, l, m->ffn, b_att);
    add_work(&layer, &mlp);
    account(c, &layer, dense, out);
    if (moe) {
        struct work ml = attention_work(c, l, b_att), x = moe_mlp_work(c, l, b, b_att);
        add_work(&ml, &x);
        account(c, &ml, moe, out);
    }
    struct work head = lm_head_work(c, l, b);
    account(c, &head, 1, out);
    /* One hop per stage (the last one feeds the sampled token back to the first). */
    if (l->pp > 1) {
        int cross = sbm_layout_cross_hops(l, c->hw->domain_gpus);
        double n = b * m->hidden * m->bytes_per_activation;
        out->pp_comm_ms = 1e-3 * ((l->pp - cross) * sbm_comm_hop_us(&c->hw->comm, false, n) +
                                  cross * sbm_comm_hop_us(&c->hw->comm, true, n));
    }
    out->pp_bubble = 1 - micro / l->pp;
    out->step_ms = out->compute_ms + out->memory_ms + out->tp_comm_ms + out->ep_comm_ms + out->pp_comm_ms;
    out->tok_s_per_user = 1e3 / out->step_ms;
    out->tok_s_per_gpu = batch * out->tok_s_per_user / sbm_layout_gpus(l);
    out->weights_gbytes_per_gpu = sbm_infer_weight_bytes_per_gpu(c, l) * 1e-9;
    out->kv_gbytes_per_gpu = sbm_infer_kv_bytes_per_gpu(c, l, batch) * 1e-9;
    out->fits = (out->weights_gbytes_per_gpu + out->kv_gbytes_per_gpu) * 1e9 <= usable_bytes(c);
}

/* ---- layouts ---- */

/* Calls FN for every valid layout of the case (tp and ep powers of two, or ep the whole
 * domain; pp up to 32, the replica inside the domain when the case says so). Stops early when
 * FN returns non-zero. */
static int for_each_layout(const struct sbm_infer_case *c,
                           int (*fn)(const struct sbm_infer_case *, const struct sbm_layout *, void *),
                           void *arg)
{
    int domain = c->hw->domain_gpus, eps[24], n_ep = 0;
    for (int e = 1; e <= domain; e *= 2)
        eps[n_ep++] = e;
    if (eps[n_ep - 1] != domain)
        eps[n_ep++] = domain;
    for (int tp = 1; tp <= domain; tp *= 2)
        for (int i = 0; i < n_ep; i++)
            for (int pp = 1; pp <= 32; pp++) {
                struct sbm_layout l = {tp, eps[i], pp};
                if (c->replica_in_domain && sbm_layout_gpus(&l) > domain)
                    continue;
                if (sbm_layout_check(&l, c->model, domain) == 0 && fn(c, &l, arg))
                    return 1;
            }
    return 0;
}

struct wall_search {
    double batch;
    struct sbm_layout best;
    int gpus;
};

static int consider_wall(const struct sbm_infer_case *c, const struct sbm_layout *l, void *arg)
{
    struct wall_search *s = arg;
    double need = sbm_infer_weight_bytes_per_gpu(c, l) + sbm_infer_kv_bytes_per_gpu(c, l, s->batch);
    int g = sbm_layout_gpus(l);
    if (need <= usable_bytes(c) && (s->gpus == 0 || g < s->gpus)) {
        s->gpus = g;
        s->best = *l;
    }
    return 0;
}

int sbm_infer_memory_wall(const struct sbm_infer_case *c, double batch, struct sbm_layout *layout)
{
    struct wall_search s = {.batch = batch};
    for_each_layout(c, consider_wall, &s);
    if (layout)
        *layout = s.best;
    return s.gpus;
}

/* ---- sweep and Pareto front ---- */

static void points_push(struct sbm_infer_points *p, const struct sbm_infer_point *x)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 1024;
        p->v = realloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = *x;
}

static void push_if_fits(const struct sbm_infer_case *c, const struct sbm_layout *l, double batch,
                         struct sbm_infer_points *out)
{
    struct sbm_infer_point x = {.layout = *l, .batch = batch};
    sbm_infer_step(c, l, batch, &x.step);
    if (x.step.fits && isfinite(x.step.step_ms))
        points_push(out, &x);
}

/* Batches 1, 2, 3, 4, 5, 6, 8, ... (about 2^(1/4) apart) up to what fits, and the largest
 * batch that fits. */
static int sweep_layout(const struct sbm_infer_case *c, const struct sbm_layout *l, void *arg)
{
    double max_batch = sbm_infer_max_batch(c, l);
    double last = 0;
    for (double x = 1; x <= max_batch && x <= 65536; x *= 1.189207115) {
        double batch = round(x);
        if (batch > last)
            push_if_fits(c, l, batch, arg);
        last = batch;
    }
    if (max_batch >= 1 && max_batch <= 65536 && max_batch > last)
        push_if_fits(c, l, max_batch, arg);
    return 0;
}

int sbm_infer_sweep(const struct sbm_infer_case *c, struct sbm_infer_points *out)
{
    memset(out, 0, sizeof *out);
    for_each_layout(c, sweep_layout, out);
    return out->n ? 0 : -1;
}

void sbm_infer_points_free(struct sbm_infer_points *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* Faster per user first; among equals, better per GPU first. */
static int by_user_desc(const void *a, const void *b)
{
    const struct sbm_step *x = &((const struct sbm_infer_point *)a)->step;
    const struct sbm_step *y = &((const struct sbm_infer_point *)b)->step;
    if (x->tok_s_per_user != y->tok_s_per_user)
        return x->tok_s_per_user < y->tok_s_per_user ? 1 : -1;
    return (x->tok_s_per_gpu < y->tok_s_per_gpu) - (x->tok_s_per_gpu > y->tok_s_per_gpu);
}

void sbm_infer_pareto(const struct sbm_infer_points *all, struct sbm_infer_points *front)
{
    memset(front, 0, sizeof *front);
    struct sbm_infer_point *sorted = malloc((all->n ? all->n : 1) * sizeof *sorted);
    memcpy(sorted, all->v, all->n * sizeof *sorted);
    qsort(sorted, all->n, sizeof *sorted, by_user_desc);
    double best = -1;
    for (size_t i = 0; i < all->n; i++)
        if (sorted[i].step.tok_s_per_gpu > best) {
            best = sorted[i].step.tok_s_per_gpu;
            points_push(front, &sorted[i]);
        }
    free(sorted);
    for (size_t i = 0; i < front->n / 2; i++) { /* ascending per-user speed */
        struct sbm_infer_point t = front->v[i];
        front->v[i] = front->v[front->n - 1 - i];
        front->v[front->n - 1 - i] = t;
    }
}

double sbm_infer_best_at(const struct sbm_infer_points *front, double u,
                         const struct sbm_infer_point **which)
{
    double best = 0;
    if (which)
        *which = NULL;
    for (size_t i = 0; i < front->n; i++)
        if (front->v[i].step.tok_s_per_user >= u && front->v[i].step.tok_s_per_gpu > best) {
            best = front->v[i].step.tok_s_per_gpu;
            if (which)
                *which = &front->v[i];
        }
    return best;
}
