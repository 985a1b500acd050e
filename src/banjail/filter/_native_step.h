/* Shared between _native_step.c (the one-line step's Step type and run loop), _native_match.c (one hit line),
 * _native_session.c (its <F-MLFID> sessions) and the step's other parts named below. */
#ifndef BANJAIL_NATIVE_STEP_H
#define BANJAIL_NATIVE_STEP_H
#include "_native.h"

enum { MISSED = 0, MATCHED = 1, IGNORED = 2 };

/* interned key names, in this order (see Step_init) */
enum {
    K_CONTENT, K_MLFID, K_NOFAIL, K_MLFGAINED, K_MLFFORGET, K_USER, K_USERS, K_PAIRS, K_MLFPENDING, K_MATCHES,
    K_NOFAIL_MATCHES, K_FID, K_IP4, K_IP6, K_DNS, K_CIDR, K_IP, K_EMPTY, K_COUNT
};

/* One failregex's {**prefregex groups, **failregex groups} shape, taken from its first merge: the keys of both
 * dicts in order (the same interned name objects every line: Program.scan builds them from fixed tuples), the
 * merged dict's keys with None values, and which prefregex keys the failregex does not have. */
typedef struct {
    PyObject *blank;     /* NULL: not taken yet */
    PyObject *pre_keys;  /* tuple */
    PyObject *fail_keys; /* tuple */
    char *pre_only;      /* per pre key: 1 when the failregex has no group of that name */
    /* for native_merge_record: the Program's name tuples the shape was checked against (NULL: not yet), whether
     * the shape is theirs (the pre keys are the prefregex's names without "content", the fail keys the
     * failregex's, in order), and then per prefregex name whether its value goes into the merged dict */
    PyObject *seen_pre, *seen_fail;
    int direct;
    char *take;
} Merge;

/* One slot of the step's address cache (see _native_identity.c): an ASCII address text of one family and the
 * (id, address or None) pair identify returns for it. text NULL: empty. */
typedef struct {
    PyObject *text;
    PyObject *pair;
    int family; /* index into families */
} AddressSlot;

/* a power of two; 1024 kept the hits of 4096 on the bench's logs (callgrind 3.250 vs 3.255 G per 200k lines) and
 * holds a quarter of the pairs in a daemon */
#define ADDRESS_SLOTS 1024

typedef struct {
    PyObject_HEAD
    PyObject *by_first;   /* dict: first character -> tuple of failregex indexes */
    PyObject *any_first;  /* tuple */
    PyObject *searches;   /* tuple of the failregexes' Python search functions */
    PyObject *folds;      /* tuple: per failregex its CompiledRegex (alt, tuples), or None (no <F-ALT_*>, <F-TUPLE_*>) */
    Py_ssize_t nfail;
    int check_all;
    int has_pref;
    PyObject *internal;   /* frozenset: failure.INTERNAL */
    PyObject *failure;    /* banjail.model.Failure */
    PyObject *outcome;    /* banjail.filter.outcome.LineOutcome */
    PyObject *failure_fields, *outcome_fields; /* their 7 field names, in order */
    /* where each field's slot is in the object, when every field is a plain object slot of the class itself
     * (a slots dataclass): set there directly, as its member descriptor would; NULL: through setattr */
    Py_ssize_t failure_at[7], outcome_at[7];
    const Py_ssize_t *failure_slots, *outcome_slots;
    /* the failregex order each first character (ASCII) dispatches to: order_items[order_at[c]], order_len[c] */
    Py_ssize_t *order_items;
    Py_ssize_t order_at[128], order_len[128];
    Merge *merges;        /* one per failregex */
    Py_ssize_t max_users, max_user_chars, max_lines, max_line_chars;
    PyObject *unspec;     /* netaddr.UNSPEC */
    PyObject *families[3]; /* 0, 4, 6 */
    PyObject *one;        /* 1 */
    PyObject *minus_one;  /* -1 */
    PyObject *kinds[3];
    PyObject *keys[K_COUNT];
    PyObject *s_entries, *s_max_count, *s_ttl, *s_addresses, *s_usedns, *s_identify, *s_address, *s_groupdict;
    PyObject *s_pref_last;
    AddressSlot *address_slots; /* ADDRESS_SLOTS of them */
} StepObject;

/* What one run() call works on. */
typedef struct {
    PyObject *rows, *dates, *texts, *ends, *template, *now, *entries, *max_count, *ttl, *addresses;
    PyObject *identify, *address, *fallback, *out, *state;
    Py_ssize_t first_lineno;
    int want_failures, keep_matched, keep_ignored, keep_missed, raw;
    Py_ssize_t *hits;      /* this line's hits */
    Py_ssize_t nhits, hits_cap;
    Py_ssize_t *counts;    /* by kind */
    Py_ssize_t *fail_hits; /* per failregex */
} Run;

/* d.get(key) as a borrowed reference, NULL (no error) when missing or None-valued callers test for */
static inline PyObject *get(PyObject *d, PyObject *key)
{
    return PyDict_GetItemWithError(d, key);
}

/* d.pop(key, None) as a new reference (Py_None when missing); NULL on error */
static inline PyObject *pop(PyObject *d, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    Py_INCREF(v);
    if (PyDict_DelItem(d, key) < 0) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

/* truth of d.get(key): 1, 0, or -1 on error */
static inline int truthy(PyObject *d, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL)
        return PyErr_Occurred() ? -1 : 0;
    return PyObject_IsTrue(v);
}

/* truth of d.pop(key, None) */
static inline int pop_truthy(PyObject *d, PyObject *key)
{
    PyObject *v = pop(d, key);
    if (v == NULL)
        return -1;
    int t = PyObject_IsTrue(v);
    Py_DECREF(v);
    return t;
}

static inline PyObject *get_or_none(PyObject *d, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    return v == NULL ? (PyErr_Occurred() ? NULL : Py_None) : v;
}

/* singleline.match_line + uniform.run_line for hit row i of a run, given as Program.scan's (pre, found) or as a
 * Matches' hit h (pre and found NULL): 0 done, 1 not ported and nothing changed (the caller hands the line to
 * Python), -1 with an error (_native_match.c) */
int native_step_line(StepObject *s, Run *r, Py_ssize_t i, PyObject *pre, PyObject *found, const Hit *h);

/* list(a) + list(b) where a may be NULL (missing: []) */
PyObject *native_concat(PyObject *a, PyObject *b);

/* session.merge: a new reference to the data that now stands for the failure (_native_session.c) */
PyObject *native_merge(StepObject *s, Run *r, PyObject *mlfid, PyObject *fail, PyObject *matched);

/* an object of a frozen slots dataclass `type`, its `fields` set to `values` as its __init__ sets them, without
 * running Python (_native_failure.c) */
PyObject *native_record(PyObject *type, PyObject *fields, const Py_ssize_t *slots, PyObject *const *values);
int native_slots(PyObject *type, PyObject *fields, Py_ssize_t *at);

/* _native_merge.c: {**pre, **fail}; with `take`, the shape is kept in m */
PyObject *native_merge_slow(Merge *m, PyObject *pre, PyObject *fail, int take);
/* the same from m's shape: NULL without an error when pre or fail has another shape (native_merge_slow then) */
PyObject *native_merge_fast(const Merge *m, PyObject *pre, PyObject *fail);
/* the same made straight from a Matches' hit for its failregex i (no pre or fail dict is made): NULL without an
 * error when the shape is not known yet or is not the Program's (the dicts' way then) */
PyObject *native_merge_record(Merge *m, const Hit *h, Py_ssize_t i, PyObject *content);
void native_merges_free(Merge *merges, Py_ssize_t nfail);
/* CompiledRegex.fold(d), in place, from its (alt pairs, tuple pairs): 0, or -1 with an error */
int native_fold(PyObject *pairs, PyObject *d);

/* failure.failure_of: a new reference to the Failure of one identity of a match (_native_failure.c) */
PyObject *native_failure_of(StepObject *s, PyObject *fid, PyObject *ip, PyObject *fail, PyObject *date,
                            PyObject *lineno, PyObject *index);

/* identity.Identities.identify: a new reference to the list of (id, address or None), or Py_None while the
 * session has no id yet; NULL with an error (_native_identity.c) */
PyObject *native_identify(StepObject *s, Run *r, PyObject *fail, PyObject *mlfid);
/* the address cache's slots, allocated (0) or released */
int native_address_slots(StepObject *s);
void native_address_slots_free(StepObject *s);

#endif
