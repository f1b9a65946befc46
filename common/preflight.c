/* The all-pairs reachability check before the sweep; see preflight.h. */
#include "preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

/* Host of a rank from the header's placement records ("?" when unknown). */
static const char *host_of(json_t *header, int rank)
{
    json_t *r = json_array_get(json_object_get(header, "rank_placement"), (size_t)rank);
    const char *h = json_string_value(json_object_get(r, "host"));
    return h ? h : "?";
}

enum { PEERS_LEN = 4096 };

/* "1,3" -> [1, 3]; also marks each rank in `unheard`. */
static json_t *rank_list(const char *csv, int *unheard, int n)
{
    json_t *a = json_array();
    for (const char *p = csv; p && *p;) {
        char *end;
        long r = strtol(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(a, json_integer(r));
        if (r >= 0 && r < n)
            unheard[r] = 1;
        p = *end == ',' ? end + 1 : end;
    }
    return a;
}

/* Rank 0: the preflight error record, and its text (one line per rank that missed a peer,
 * then the ranks some peer never heard from: the ones to look at). */
static json_t *preflight_failures(const struct sb_comm *c, const char *prog, json_t *header, const char *all,
                                  double deadline, char *lines, size_t len)
{
    int n = c->size, *unheard = calloc((size_t)n, sizeof *unheard);
    json_t *fails = json_array(), *culprits = json_array();
    lines[0] = '\0';
    for (int r = 0; all && unheard && r < n; r++) {
        const char *missing = all + (size_t)r * PEERS_LEN;
        if (!missing[0])
            continue;
        size_t u = strlen(lines);
        snprintf(lines + u, len - u, "%s: preflight: rank %d (%s) heard nothing from ranks %s within %g s\n",
                 prog, r, host_of(header, r), missing, deadline);
        json_array_append_new(fails, json_pack("{s:i, s:s, s:o}", "rank", r, "host", host_of(header, r),
                                               "not_heard_from", rank_list(missing, unheard, n)));
    }
    size_t u = strlen(lines);
    if (!all)
        snprintf(lines + u, len - u, "%s: preflight: some rank could not even report its result to rank 0\n",
                 prog);
    else
        snprintf(lines + u, len - u, "%s: preflight: unreachable from some peer:", prog);
    for (int r = 0; all && unheard && r < n; r++) {
        if (!unheard[r])
            continue;
        json_array_append_new(culprits, json_integer(r));
        u = strlen(lines);
        snprintf(lines + u, len - u, " rank %d (%s)", r, host_of(header, r));
    }
    u = strlen(lines);
    if (all)
        snprintf(lines + u, len - u, "\n");
    free(unheard);
    return json_pack("{s:s, s:s, s:f, s:o, s:o}", "error", "preflight", "message", lines, "deadline_s", deadline,
                     "ranks", fails, "unreachable_ranks", culprits);
}

int sb_preflight(const struct sb_comm *c, const char *prog, int requested, double timeout_s, json_t *header,
                 sb_preflight_report_fn report, void *arg)
{
    int wanted = requested == 1 || (requested < 0 && c->nodes > 1);
    if (!wanted || c->size < 2) {
        if (header)
            json_object_set_new(header, "preflight", json_pack("{s:b, s:s}", "ran", 0, "why",
                                                               wanted ? "one rank" : "single node (--preflight 1 forces it)"));
        return 0;
    }
    double deadline = timeout_s > 0 ? timeout_s : 30.0, start = sb_now();
    int *heard = calloc((size_t)c->size, sizeof *heard), missing = sb_comm_preflight(c, deadline, heard);
    char mine[PEERS_LEN] = "";
    for (int r = 0; heard && r < c->size; r++) {
        size_t u = strlen(mine);
        if (!heard[r] && u + 16 < sizeof mine)
            snprintf(mine + u, sizeof mine - u, "%s%d", u ? "," : "", r);
    }
    free(heard);
    int any = sb_comm_max_int(c, missing != 0); /* reachable control plane: the common case */
    double seconds = sb_now() - start;
    if (!any) {
        if (header)
            json_object_set_new(header, "preflight", json_pack("{s:b, s:s, s:i, s:f, s:f}", "ran", 1, "result", "pass",
                                                               "pairs", c->size * (c->size - 1), "seconds", seconds,
                                                               "deadline_s", deadline));
        return 0;
    }
    char *all = c->rank == 0 ? calloc((size_t)c->size, PEERS_LEN) : NULL;
    int gathered = sb_comm_gather_strings_deadline(c, mine, all, PEERS_LEN, deadline) == 0;
    if (c->rank != 0) {
        /* Rank 0 reports and ends the job; only if it cannot (unreachable itself) do we. */
        sb_sleep(deadline + 10.0);
        sb_comm_abort(c, 1);
    }
    char lines[8192];
    json_t *rec = preflight_failures(c, prog, header, gathered ? all : NULL, deadline, lines, sizeof lines);
    fputs(lines, stderr);
    fprintf(stderr, "%s: preflight failed: aborting with exit code 1\n", prog);
    report(header, rec, arg);
    json_decref(rec);
    sb_comm_abort(c, 1);
    return 1;
}
