#include "sweep.h"

#include <stdio.h>
#include <string.h>

enum { TAIL_ROOM = 80 }; /* kept free for the line that counts the notes left out */

/* Appends a note line, or counts it in *dropped when the buffer is full. */
static void note(char *notes, size_t len, const char *line, size_t *dropped)
{
    size_t used = strlen(notes);
    if (len > TAIL_ROOM && used + strlen(line) + 2 < len - TAIL_ROOM) {
        strcat(notes, line);
        strcat(notes, "\n");
    } else {
        (*dropped)++;
    }
}

/* The requested sizes in order: an explicit list, or min..max by factor or increment. */
static size_t requested_sizes(const struct sb_options *o, size_t *req, size_t max_out)
{
    if (o->n_sizes > 0) {
        size_t n = o->n_sizes < max_out ? o->n_sizes : max_out;
        memcpy(req, o->sizes, n * sizeof *req);
        return n;
    }
    size_t n = 0;
    for (size_t s = o->min_bytes; s <= o->max_bytes && n < max_out;) {
        req[n++] = s;
        if (!o->step_bytes && s > o->max_bytes / o->step_factor)
            break; /* the next one is past the end (or would wrap around) */
        s = o->step_bytes ? s + o->step_bytes : s * o->step_factor;
    }
    return n;
}

size_t sb_sweep_build(const struct sb_options *o, const struct sb_collective *coll, size_t elem_size,
                      int ranks, struct sb_size *out, size_t max_out, char *notes, size_t notes_len)
{
    size_t req[SB_MAX_SWEEP];
    size_t nreq = requested_sizes(o, req, sizeof req / sizeof *req);
    size_t granule = coll->granule(ranks);
    size_t unit = granule * elem_size;
    char line[256];
    size_t n = 0, dropped = 0;
    notes[0] = '\0';
    for (size_t i = 0; i < nreq && n < max_out; i++) {
        size_t count = req[i] / unit * granule;
        if (count == 0) {
            snprintf(line, sizeof line, "size %zu skipped: smaller than one %zu-byte element%s", req[i],
                     elem_size, granule > 1 ? " per peer" : "");
            note(notes, notes_len, line, &dropped);
            continue;
        }
        size_t seen = 0; /* a size measured already, wherever it came in the list */
        while (seen < n && out[seen].layout.count != count)
            seen++;
        if (seen < n) {
            if (count * elem_size == req[i])
                snprintf(line, sizeof line, "size %zu skipped: measured already", req[i]);
            else
                snprintf(line, sizeof line, "size %zu skipped: rounds down to %zu bytes, measured already", req[i],
                         count * elem_size);
            note(notes, notes_len, line, &dropped);
            continue;
        }
        if (count * elem_size != req[i]) {
            snprintf(line, sizeof line, "size %zu rounded down to %zu bytes (whole %zu-byte elements%s)",
                     req[i], count * elem_size, elem_size, granule > 1 ? " per peer" : "");
            note(notes, notes_len, line, &dropped);
        }
        out[n].requested = req[i];
        out[n].bytes = count * elem_size;
        coll->layout(count, ranks, &out[n].layout);
        n++;
    }
    if (dropped) {
        size_t used = strlen(notes);
        snprintf(notes + used, notes_len - used, "%zu more size notes like the above left out\n", dropped);
    }
    return n;
}

size_t sb_sweep_footprint(const struct sb_size *s, size_t elem_size)
{
    size_t recv = s->layout.recv_count * elem_size;
    size_t send = s->layout.send_count * elem_size;
    return 2 * (recv > send ? recv : send);
}
