/* expect.c - expected HTTP statuses: "400", "200-399", "2xx,400", "any".
 *
 * The spec is small and comes from the user (--expect-status or a profile),
 * so parsing is strict and every error names the item that is wrong. The
 * normalized text keeps each item in the form the user wrote it (a class stays
 * "2xx", a range stays "200-299") minus white space, so that the fact
 * http.expected_status reads like the option and parses back to the same spec.
 */
#include "expect.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STATUS_MIN 100
#define STATUS_MAX 599
#define ITEM_SHOWN 32 /* most characters of a bad item quoted in an error */

/* Parses exactly three digits at s into *code; 1 on success. */
static int three_digits(const char *s, size_t len, int *code) {
    if (len != 3 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[2]))
        return 0;
    *code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return 1;
}

/* Parses one item (white space already trimmed) into lo..hi. */
static ld_status parse_item(const char *s, size_t len, int *lo, int *hi, ld_err *err) {
    int shown = (int)(len > ITEM_SHOWN ? ITEM_SHOWN : len);
    const char *dash = memchr(s, '-', len);
    if (len == 3 && s[0] >= '1' && s[0] <= '5' && tolower((unsigned char)s[1]) == 'x' &&
        tolower((unsigned char)s[2]) == 'x') {
        *lo = (s[0] - '0') * 100;
        *hi = *lo + 99;
        return LD_OK;
    }
    if (dash) {
        size_t a = (size_t)(dash - s);
        if (three_digits(s, a, lo) && three_digits(dash + 1, len - a - 1, hi)) {
            if (*lo < STATUS_MIN || *hi > STATUS_MAX)
                return ld_err_set(err, LD_EINVAL, "'%.*s': statuses go from %d to %d", shown, s,
                                  STATUS_MIN, STATUS_MAX);
            if (*lo > *hi)
                return ld_err_set(err, LD_EINVAL, "'%.*s': a range goes from low to high", shown,
                                  s);
            return LD_OK;
        }
    } else if (three_digits(s, len, lo)) {
        if (*lo < STATUS_MIN || *lo > STATUS_MAX)
            return ld_err_set(err, LD_EINVAL, "'%.*s': statuses go from %d to %d", shown, s,
                              STATUS_MIN, STATUS_MAX);
        *hi = *lo;
        return LD_OK;
    }
    return ld_err_set(err, LD_EINVAL, "'%.*s' is not a status, a range (200-399) or a class (2xx)",
                      shown, s);
}

/* Appends one item to e->text in its normalized form; the text is bounded,
 * so a spec too long to show whole is refused rather than shown cut. */
static ld_status append_text(ld_expect_status *e, int lo, int hi, int is_class, ld_err *err) {
    size_t used = strlen(e->text);
    char item[16];
    if (is_class)
        snprintf(item, sizeof item, "%dxx", lo / 100);
    else if (lo == hi)
        snprintf(item, sizeof item, "%d", lo);
    else
        snprintf(item, sizeof item, "%d-%d", lo, hi);
    size_t need = strlen(item) + (used ? 1 : 0);
    if (used + need >= sizeof e->text)
        return ld_err_set(err, LD_ELIMIT,
                          "the expected statuses are too long (at most %zu characters)",
                          sizeof e->text - 1);
    snprintf(e->text + used, sizeof e->text - used, "%s%s", used ? "," : "", item);
    return LD_OK;
}

static int is_blank(char c) {
    return c == ' ' || c == '\t';
}

ld_status ld_expect_parse(const char *spec, ld_expect_status *out, ld_err *err) {
    ld_status st = LD_OK;
    ld_expect_status e;
    memset(&e, 0, sizeof e);
    const char *p = spec ? spec : "";
    while (is_blank(*p))
        p++;
    size_t total = strlen(p);
    while (total > 0 && is_blank(p[total - 1]))
        total--;
    if (total == 0 || (total == 3 && strncasecmp(p, "any", 3) == 0))
        goto out;

    const char *end = p + total;
    for (const char *s = p; s <= end;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        const char *a = s, *b = stop;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (a == b) {
            st = ld_err_set(err, LD_EINVAL, "empty item in the expected statuses '%.*s'",
                            (int)(total > ITEM_SHOWN ? ITEM_SHOWN : total), p);
            goto out;
        }
        if (e.n == LD_EXPECT_MAX) {
            st = ld_err_set(err, LD_ELIMIT, "at most %d expected statuses, ranges or classes",
                            LD_EXPECT_MAX);
            goto out;
        }
        int lo = 0, hi = 0;
        if ((st = parse_item(a, (size_t)(b - a), &lo, &hi, err)) != LD_OK)
            goto out;
        int is_class = (size_t)(b - a) == 3 && tolower((unsigned char)a[1]) == 'x';
        if ((st = append_text(&e, lo, hi, is_class, err)) != LD_OK)
            goto out;
        e.items[e.n].lo = lo;
        e.items[e.n].hi = hi;
        e.n++;
        if (!comma)
            break;
        s = comma + 1;
    }

out:
    /* A failed parse leaves "any": never a half-parsed spec. */
    if (st != LD_OK || e.n == 0) {
        memset(&e, 0, sizeof e);
        snprintf(e.text, sizeof e.text, "any");
    }
    *out = e;
    return st;
}

int ld_expect_match(const ld_expect_status *e, int status) {
    if (!e || e->n == 0)
        return 1;
    for (int i = 0; i < e->n; i++)
        if (status >= e->items[i].lo && status <= e->items[i].hi)
            return 1;
    return 0;
}
