#include "method.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void sbm_record_method(json_t *rec, char *buf, size_t len)
{
    json_t *calls = json_object_get(rec, "batch_calls"), *sync = json_object_get(rec, "sync");
    bool batch = json_is_integer(calls) && json_integer_value(calls) > 0 && !json_object_get(rec, "time_us_batch");
    bool window = json_is_string(sync) && strcmp(json_string_value(sync), "window") == 0;
    bool off_cache = json_is_object(json_object_get(rec, "off_cache"));
    snprintf(buf, len, "%s%s%s%s%s", batch ? "batch" : "", batch && (window || off_cache) ? "+" : "",
             window ? "window" : "", window && off_cache ? "+" : "", off_cache ? "off-cache" : "");
}
