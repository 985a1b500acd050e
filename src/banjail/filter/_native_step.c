/* banjail.filter._native.Step: the one-line step of the native engine (banjail.filter.native) in C.
 *
 * Program.scan (_native.c) returns the lines of a uniform chunk where a failregex matched, with their groups;
 * Program.start (_native_pipe.c) gives the same lines as a Matches, whose records run() reads one by one as
 * they are found, making each match's merged dict straight from the record (no prefregex or failregex dict). Step.run does on each of them what banjail.filter.singleline.match_line and banjail.filter.uniform.run_line
 * do with those groups, on the same Python objects: the log's SessionCache.entries dict (session.merge, in
 * _native_session.c), the Identities.addresses cache (identity.identify, in _native_identity.c),
 * banjail.model.Failure records (failure.failure_of, in _native_failure.c), LineOutcome records and the
 * chunk's counts. Because the state is shared, a line this file does not port is handed, before any state
 * changed for it, to the caller's Python `fallback(index, pre, fails)` (the reference's run_line), in line
 * order, and the results stay exact. Handed over: a line PCRE2 could not
 * decide, a line without a valid date. Within a line, identify() is called in Python for every form not
 * ported here (a cidr group, a DNS name, an F-ID other than the address, usedns = raw). The Python modules
 * stay the reference: each function below names the one it mirrors, statement for statement. This file holds
 * the Step type (its arguments, interned names, dispatch table) and run()'s loop over the hits; one hit line's
 * work is native_step_line, in _native_match.c.
 *
 * No global state: the interned names and constants live in the Step object; buffers are sized by the hits.
 */
#include "_native_step.h"

static const char *const key_names[K_COUNT] = {
    "content", "mlfid", "nofail", "mlfgained", "mlfforget", "user", "users", NULL /* USER_PAIRS, given */,
    "mlfpending", "matches", "nofail-matches", "fid", "ip4", "ip6", "dns", "cidr", "ip", "",
};

/* add the C counts into a list of ints */
static int add_counts(PyObject *list, const Py_ssize_t *counts, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!counts[k])
            continue;
        PyObject *add = PyLong_FromSsize_t(counts[k]);
        PyObject *sum = add == NULL ? NULL : PyNumber_Add(PyList_GET_ITEM(list, k), add);
        Py_XDECREF(add);
        if (sum == NULL || PyList_SetItem(list, k, sum) < 0)
            return -1;
    }
    return 0;
}

/* with keep_missed: the outcomes of lines start..end-1, which no failregex matched (native.py's _missed) */
static int add_missed(StepObject *s, Run *r, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL)
        return -1;
    int bad = 0;
    for (Py_ssize_t k = start; k < end && !bad; k++) {
        PyObject *lineno = PyLong_FromSsize_t(r->first_lineno + k);
        if (lineno == NULL) {
            bad = -1;
            break;
        }
        PyObject *row = native_rows_item(r->rows, k);
        if (row == NULL) {
            Py_DECREF(lineno);
            bad = -1;
            break;
        }
        PyObject *template = PyList_GET_ITEM(r->dates, k) != Py_None ? r->template : Py_None;
        PyObject *values[7] = {lineno, row, s->kinds[MISSED], empty, s->minus_one, empty, template};
        PyObject *outcome = native_record(s->outcome, s->outcome_fields, s->outcome_slots, values);
        Py_DECREF(lineno);
        Py_DECREF(row);
        bad = outcome == NULL || PyList_Append(r->out, outcome) < 0 ? -1 : 0;
        Py_XDECREF(outcome);
    }
    Py_DECREF(empty);
    return bad;
}

/* run()'s work on one hit line i, given as Program.scan's row (pre, found: its groups) or as a Matches' hit h
 * (pre and found NULL): 0, or -1 with an error */
static int one_hit(StepObject *s, Run *r, Py_ssize_t i, PyObject *pre, PyObject *found, const Hit *h,
                   Py_ssize_t lines, Py_ssize_t *missed_from)
{
    if (i < 0 || i >= lines) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "hits: a line index out of range");
        return -1;
    }
    if (r->keep_missed) {
        if (i < *missed_from) {
            PyErr_SetString(PyExc_ValueError, "hits: lines in order");
            return -1;
        }
        if (add_missed(s, r, *missed_from, i) < 0)
            return -1;
        *missed_from = i + 1;
    }
    int done = native_step_line(s, r, i, pre, found, h);
    if (done <= 0)
        return done;
    PyObject *row = h != NULL ? native_hit_row(h) : NULL; /* the record's row, which the dicts' way was given */
    if (h != NULL && row == NULL)
        return -1;
    PyObject *back = row != NULL ? PyObject_CallFunctionObjArgs(r->fallback, PyTuple_GET_ITEM(row, 0),
                                                                PyTuple_GET_ITEM(row, 1), PyTuple_GET_ITEM(row, 2), NULL)
                                 : NULL;
    if (row == NULL) {
        PyObject *index = PyLong_FromSsize_t(i);
        back = index == NULL ? NULL : PyObject_CallFunctionObjArgs(r->fallback, index, pre, found, NULL);
        Py_XDECREF(index);
    }
    Py_XDECREF(row);
    if (back == NULL)
        return -1;
    Py_DECREF(back);
    return 0;
}

/* one_hit on a row of Program.scan's list: (line, prefregex groups, failregex groups) */
static int one_row(StepObject *s, Run *r, PyObject *hit, Py_ssize_t lines, Py_ssize_t *missed_from)
{
    if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) != 3) {
        PyErr_SetString(PyExc_TypeError, "hits: (line, prefregex groups, failregex groups)");
        return -1;
    }
    Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(hit, 0));
    if (i == -1 && PyErr_Occurred())
        return -1;
    return one_hit(s, r, i, PyTuple_GET_ITEM(hit, 1), PyTuple_GET_ITEM(hit, 2), NULL, lines, missed_from);
}

/* run(hits, rows, dates, texts, ends, template, first_lineno, now, flags, state, counts, out, fail_hits,
 *     fallback): see the module's note; rows: the chunk's Rows (_native_rows.c). flags: want_failures |
 *     keep_matched << 1 | keep_ignored << 2 | keep_missed << 3. */
static PyObject *Step_run(StepObject *s, PyObject *args)
{
    PyObject *hits, *counts, *fail_hits;
    Run r;
    memset(&r, 0, sizeof r);
    int flags;
    if (!PyArg_ParseTuple(args, "OOO!OO!OnOiOO!O!O!O", &hits, &r.rows,
                          &PyList_Type, &r.dates, &r.texts, &PyList_Type, &r.ends, &r.template,
                          &r.first_lineno, &r.now, &flags, &r.state, &PyList_Type, &counts, &PyList_Type, &r.out,
                          &PyList_Type, &fail_hits, &r.fallback))
        return NULL;
    if (s->failure == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Step not initialised");
        return NULL;
    }
    int lazy = native_is_matches(hits); /* Program.start's: its rows are made as the matching thread finds them */
    if (!lazy && !PyList_Check(hits)) {
        PyErr_SetString(PyExc_TypeError, "hits: Program.scan's list or Program.start's Matches");
        return NULL;
    }
    Py_ssize_t lines = native_rows_len(r.rows); /* a Rows: the chunk's lines */
    if (lines < 0)
        return NULL;
    if (r.texts != Py_None && !PyList_Check(r.texts)) {
        PyErr_SetString(PyExc_TypeError, "texts: a list, or None when every date text starts its line");
        return NULL;
    }
    if (PyList_GET_SIZE(r.dates) != lines || (r.texts != Py_None && PyList_GET_SIZE(r.texts) != lines) ||
        PyList_GET_SIZE(r.ends) != lines || PyList_GET_SIZE(counts) != 3 ||
        PyList_GET_SIZE(fail_hits) != s->nfail) {
        PyErr_SetString(PyExc_ValueError, "dates, texts, ends: one per row; counts: 3; fail_hits: one per failregex");
        return NULL;
    }
    r.want_failures = flags & 1;
    r.keep_matched = (flags >> 1) & 1;
    r.keep_ignored = (flags >> 2) & 1;
    r.keep_missed = (flags >> 3) & 1;
    PyObject *result = NULL, *sessions = NULL, *identities = NULL, *usedns = NULL;
    Py_ssize_t local[3] = {0, 0, 0};
    Py_ssize_t *per_regex = PyMem_Calloc((size_t)(s->nfail ? s->nfail : 1), sizeof *per_regex);
    if (per_regex == NULL)
        return PyErr_NoMemory();
    r.counts = local;
    r.fail_hits = per_regex;
    if ((sessions = PyObject_GetAttrString(r.state, "sessions")) == NULL ||
        (identities = PyObject_GetAttrString(r.state, "identities")) == NULL ||
        (r.entries = PyObject_GetAttr(sessions, s->s_entries)) == NULL ||
        (r.max_count = PyObject_GetAttr(sessions, s->s_max_count)) == NULL ||
        (r.ttl = PyObject_GetAttr(sessions, s->s_ttl)) == NULL ||
        (r.addresses = PyObject_GetAttr(identities, s->s_addresses)) == NULL ||
        (usedns = PyObject_GetAttr(identities, s->s_usedns)) == NULL ||
        (r.identify = PyObject_GetAttr(identities, s->s_identify)) == NULL ||
        (r.address = PyObject_GetAttr(identities, s->s_address)) == NULL)
        goto done;
    if (!PyDict_CheckExact(r.entries) || !PyDict_Check(r.addresses)) {
        PyErr_SetString(PyExc_TypeError, "SessionCache.entries and Identities.addresses: dicts");
        goto done;
    }
    Py_ssize_t missed_from = 0; /* with keep_missed: the next line whose missed outcome may be due */
    r.raw = PyUnicode_Check(usedns) && PyUnicode_CompareWithASCIIString(usedns, "raw") == 0;
    if (lazy) { /* a Matches: each hit read from its record, its dicts made only as needed */
        const Hit *h;
        int got;
        while ((got = native_matches_hit(hits, &h)) > 0)
            if (one_hit(s, &r, h->line, NULL, NULL, h, lines, &missed_from) < 0)
                goto done;
        if (got < 0)
            goto done;
    }
    for (Py_ssize_t k = 0; !lazy && k < PyList_GET_SIZE(hits); k++) {
        PyObject *hit = Py_NewRef(PyList_GET_ITEM(hits, k)); /* the fallback may change the list */
        int bad = one_row(s, &r, hit, lines, &missed_from);
        Py_DECREF(hit);
        if (bad < 0)
            goto done;
    }
    if (r.keep_missed && add_missed(s, &r, missed_from, lines) < 0)
        goto done;
    result = Py_NewRef(Py_None);
done:
    if (add_counts(counts, local, 3) < 0 || add_counts(fail_hits, per_regex, s->nfail) < 0)
        Py_CLEAR(result);
    PyMem_Free(per_regex);
    PyMem_Free(r.hits);
    Py_XDECREF(sessions);
    Py_XDECREF(identities);
    Py_XDECREF(usedns);
    Py_XDECREF(r.entries);
    Py_XDECREF(r.max_count);
    Py_XDECREF(r.ttl);
    Py_XDECREF(r.addresses);
    Py_XDECREF(r.identify);
    Py_XDECREF(r.address);
    return result;
}

static void Step_dealloc(StepObject *self)
{
    Py_XDECREF(self->by_first);
    Py_XDECREF(self->any_first);
    PyMem_Free(self->order_items);
    native_merges_free(self->merges, self->nfail);
    Py_XDECREF(self->searches);
    Py_XDECREF(self->folds);
    Py_XDECREF(self->internal);
    Py_XDECREF(self->failure);
    Py_XDECREF(self->outcome);
    Py_XDECREF(self->failure_fields);
    Py_XDECREF(self->outcome_fields);
    native_address_slots_free(self);
    Py_XDECREF(self->unspec);
    Py_XDECREF(self->one);
    Py_XDECREF(self->minus_one);
    for (int k = 0; k < 3; k++) {
        Py_XDECREF(self->families[k]);
        Py_XDECREF(self->kinds[k]);
    }
    for (int k = 0; k < K_COUNT; k++)
        Py_XDECREF(self->keys[k]);
    PyObject *names[] = {self->s_entries, self->s_max_count, self->s_ttl, self->s_addresses, self->s_usedns,
                         self->s_identify, self->s_address, self->s_groupdict, self->s_pref_last};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        Py_XDECREF(names[k]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* by_first and any_first as a table per ASCII first character (native_step_line reads it per line) */
static int order_table(StepObject *self)
{
    PyObject *orders[128];
    Py_ssize_t total = 0;
    for (int c = 0; c < 128; c++) {
        PyObject *ch = PyUnicode_FromOrdinal(c);
        if (ch == NULL)
            return -1;
        PyObject *found = PyDict_GetItemWithError(self->by_first, ch);
        Py_DECREF(ch);
        if (found == NULL && PyErr_Occurred())
            return -1;
        orders[c] = found != NULL ? found : self->any_first;
        if (!PyTuple_Check(orders[c])) {
            PyErr_SetString(PyExc_TypeError, "by_first: tuples of indexes");
            return -1;
        }
        total += PyTuple_GET_SIZE(orders[c]);
    }
    self->order_items = PyMem_Calloc((size_t)(total ? total : 1), sizeof *self->order_items);
    if (self->order_items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t at = 0;
    for (int c = 0; c < 128; c++) {
        self->order_at[c] = at;
        self->order_len[c] = PyTuple_GET_SIZE(orders[c]);
        for (Py_ssize_t j = 0; j < self->order_len[c]; j++) {
            Py_ssize_t index = PyLong_AsSsize_t(PyTuple_GET_ITEM(orders[c], j));
            if (index < 0 || index >= self->nfail) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "by_first: an index out of range");
                return -1;
            }
            self->order_items[at++] = index;
        }
    }
    return 0;
}

/* Step(by_first, any_first, searches, folds, check_all, has_pref, internal, user_pairs, failure, failure_fields,
 *      outcome, outcome_fields, bounds, unspec)
 * bounds: (MAX_USERS, MAX_USER_CHARS, MAX_LINES, MAX_LINE_CHARS) of banjail.filter.session; the field names:
 * the 7 fields of banjail.model.Failure and of LineOutcome, in their order (banjail.filter.native checks). */
static int Step_init(StepObject *self, PyObject *args, PyObject *kwds)
{
    (void)kwds;
    PyObject *by_first, *any_first, *searches, *folds, *internal, *pairs, *failure, *ffields, *outcome, *ofields;
    PyObject *unspec;
    int check_all, has_pref;
    Py_ssize_t bounds[4];
    if (!PyArg_ParseTuple(args, "O!O!O!O!ppO!UOO!OO!(nnnn)O", &PyDict_Type, &by_first, &PyTuple_Type, &any_first,
                          &PyTuple_Type, &searches, &PyTuple_Type, &folds, &check_all, &has_pref,
                          &PyFrozenSet_Type, &internal, &pairs,
                          &failure, &PyTuple_Type, &ffields, &outcome, &PyTuple_Type, &ofields, &bounds[0],
                          &bounds[1], &bounds[2], &bounds[3], &unspec))
        return -1;
    if (self->failure != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Step is initialised once");
        return -1;
    }
    if (!PyType_Check(failure) || !PyType_Check(outcome) || PyTuple_GET_SIZE(ffields) != 7 ||
        PyTuple_GET_SIZE(ofields) != 7 || PyTuple_GET_SIZE(folds) != PyTuple_GET_SIZE(searches)) {
        PyErr_SetString(PyExc_TypeError, "failure, outcome: classes of 7 fields each; folds: one per failregex");
        return -1;
    }
    self->by_first = Py_NewRef(by_first);
    self->any_first = Py_NewRef(any_first);
    self->searches = Py_NewRef(searches);
    self->folds = Py_NewRef(folds);
    self->nfail = PyTuple_GET_SIZE(searches);
    self->check_all = check_all;
    self->has_pref = has_pref;
    self->internal = Py_NewRef(internal);
    self->outcome = Py_NewRef(outcome);
    self->failure_fields = Py_NewRef(ffields);
    self->outcome_fields = Py_NewRef(ofields);
    self->max_users = bounds[0];
    self->max_user_chars = bounds[1];
    self->max_lines = bounds[2];
    self->max_line_chars = bounds[3];
    self->unspec = Py_NewRef(unspec);
    for (int k = 0; k < K_COUNT; k++) {
        self->keys[k] = k == K_PAIRS ? Py_NewRef(pairs) : PyUnicode_InternFromString(key_names[k]);
        if (self->keys[k] == NULL)
            return -1;
    }
    const long families[3] = {0, 4, 6};
    for (int k = 0; k < 3; k++) {
        if ((self->families[k] = PyLong_FromLong(families[k])) == NULL ||
            (self->kinds[k] = PyLong_FromLong(k)) == NULL)
            return -1;
    }
    if ((self->one = PyLong_FromLong(1)) == NULL || (self->minus_one = PyLong_FromLong(-1)) == NULL ||
        (self->s_entries = PyUnicode_InternFromString("entries")) == NULL ||
        (self->s_max_count = PyUnicode_InternFromString("max_count")) == NULL ||
        (self->s_ttl = PyUnicode_InternFromString("ttl")) == NULL ||
        (self->s_addresses = PyUnicode_InternFromString("addresses")) == NULL ||
        (self->s_usedns = PyUnicode_InternFromString("usedns")) == NULL ||
        (self->s_identify = PyUnicode_InternFromString("identify")) == NULL ||
        (self->s_address = PyUnicode_InternFromString("address")) == NULL ||
        (self->s_groupdict = PyUnicode_InternFromString("groupdict")) == NULL ||
        (self->s_pref_last = PyUnicode_InternFromString("pref_last")) == NULL)
        return -1;
    if (order_table(self) < 0 || native_address_slots(self) < 0)
        return -1;
    if ((self->merges = PyMem_Calloc((size_t)(self->nfail ? self->nfail : 1), sizeof *self->merges)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int direct = native_slots(outcome, ofields, self->outcome_at);
    if (direct < 0)
        return -1;
    self->outcome_slots = direct ? self->outcome_at : NULL;
    if ((direct = native_slots(failure, ffields, self->failure_at)) < 0)
        return -1;
    self->failure_slots = direct ? self->failure_at : NULL;
    self->failure = Py_NewRef(failure); /* last: marks the object initialised */
    return 0;
}

static PyMethodDef Step_methods[] = {
    {"run", (PyCFunction)Step_run, METH_VARARGS,
     "run(hits, rows, dates, texts, ends, template, first_lineno, now, flags, state, counts, out, fail_hits, "
     "fallback): the one-line step on Program.scan's hits or Program.start's Matches (rows: the chunk's Rows)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StepType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "banjail.filter._native.Step",
    .tp_basicsize = sizeof(StepObject),
    .tp_dealloc = (destructor)Step_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The one-line step of a native chunk (see _native_step.c).",
    .tp_methods = Step_methods,
    .tp_init = (initproc)Step_init,
    .tp_new = PyType_GenericNew,
};

int native_add_step(PyObject *module)
{
    if (PyType_Ready(&StepType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "Step", (PyObject *)&StepType);
}
