/* The one-line step for one hit line (native_step_line, called by Step.run in _native_step.c): what
 * banjail.filter.singleline.match_line and banjail.filter.uniform.run_line do with the groups Program.scan found
 * on that line, statement for statement: the failregexes in the first character's dispatch order, each match's
 * session merge, identities, failures, then the line's counts and its LineOutcome.
 *
 * In its own file because it is the per-line half of the step, apart from the Step type's life (its arguments,
 * interned names and dispatch table, in _native_step.c). Moved from _native_step.c unchanged; see that file's
 * note for what a line handed back to Python means. No global state.
 */
#include "_native_step.h"

static int add_hits(Run *r, Py_ssize_t index, Py_ssize_t count)
{
    if (r->nhits + count > r->hits_cap) {
        Py_ssize_t cap = (r->nhits + count) * 2;
        Py_ssize_t *more = PyMem_Realloc(r->hits, (size_t)cap * sizeof *more);
        if (more == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        r->hits = more;
        r->hits_cap = cap;
    }
    for (Py_ssize_t k = 0; k < count; k++)
        r->hits[r->nhits++] = index;
    return 0;
}

/* One regex's match on the line, as match_line's loop body does it; fail: a new reference. Returns 1 to stop
 * the loop (break), 0 to go on, 2 when identify failed and the buffer empties, -1 on error. */
static int one_match(StepObject *s, Run *r, PyObject *fail, PyObject *org, Py_ssize_t index, PyObject *date,
                     PyObject *lineno, int *nofail, PyObject **failures)
{
    int stop = -1;
    PyObject *ids = NULL, *mlfid = get_or_none(fail, s->keys[K_MLFID]);
    if (mlfid == NULL)
        goto done;
    Py_INCREF(mlfid);
    if (mlfid != Py_None) {
        PyObject *merged = native_merge(s, r, mlfid, fail, org);
        if (merged == NULL)
            goto done;
        Py_SETREF(fail, merged);
        if (!s->check_all) {
            int t = truthy(fail, s->keys[K_NOFAIL]);
            if (t < 0)
                goto done;
            if (t) { /* upstream's findFailure returns here with nothing found: no hit, the line is missed */
                stop = 1;
                goto done;
            }
        }
    } else {
        PyObject *before = get(fail, s->keys[K_MATCHES]);
        if (before == NULL && PyErr_Occurred())
            goto done;
        PyObject *lines = native_concat(before, org);
        if (lines == NULL)
            goto done;
        int bad = PyDict_SetItem(fail, s->keys[K_MATCHES], lines);
        Py_DECREF(lines);
        if (bad < 0)
            goto done;
    }
    ids = native_identify(s, r, fail, mlfid);
    if (ids == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            goto done;
        PyErr_Clear();
        stop = s->check_all ? 0 : 2;
        goto done;
    }
    if (r->want_failures && s->check_all && mlfid != Py_None) {
        PyObject *copy = PyDict_Copy(fail); /* the session's own dict goes on changing with later lines */
        if (copy == NULL)
            goto done;
        Py_SETREF(fail, copy);
    }
    Py_ssize_t count = ids == Py_None ? 1 : PyObject_Size(ids);
    if (count < 0)
        goto done;
    if (!count) {
        stop = !s->check_all;
        goto done;
    }
    if (add_hits(r, index, count) < 0)
        goto done;
    int fail_nofail = truthy(fail, s->keys[K_NOFAIL]);
    if (fail_nofail < 0)
        goto done;
    if (fail_nofail)
        *nofail = 1;
    if (r->want_failures && (!fail_nofail || (mlfid == Py_None && !s->check_all)) && ids != Py_None &&
        date != Py_None) {
        PyObject *seq = PySequence_Fast(ids, "identify: a list");
        if (seq == NULL)
            goto done;
        PyObject *num = PyLong_FromSsize_t(index);
        for (Py_ssize_t j = 0; num != NULL && j < PySequence_Fast_GET_SIZE(seq); j++) {
            PyObject *pair = PySequence_Fast_GET_ITEM(seq, j);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "identify: (id, address) pairs");
                Py_CLEAR(num);
                break;
            }
            PyObject *f = native_failure_of(s, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), fail, date,
                                     lineno, num);
            if (f == NULL || (*failures == NULL && (*failures = PyList_New(0)) == NULL) ||
                PyList_Append(*failures, f) < 0) {
                Py_XDECREF(f);
                Py_CLEAR(num);
                break;
            }
            Py_DECREF(f);
        }
        Py_DECREF(seq);
        if (num == NULL)
            goto done;
        Py_DECREF(num);
    }
    stop = !s->check_all;
done:
    Py_XDECREF(ids);
    Py_XDECREF(mlfid);
    Py_DECREF(fail);
    return stop;
}

/* failregex index's groups on a record's hit line, made into what the loop below gives one_match: {**pre,
 * **fail} (or fail alone without pre's groups); pre: the line's prefregex dict, made from the record when first
 * needed (the merged dict is made straight from the record once the shape is known, without it). NULL without
 * an error when the failregex did not match. */
/* *pre, a record's hit line's prefregex dict as the dicts' way has it (without its content), made once: -1 on error */
static int hit_pre(StepObject *s, const Hit *h, PyObject **pre)
{
    if (*pre != NULL)
        return 0;
    if ((*pre = native_hit_pre(h)) == NULL)
        return -1;
    PyObject *content = PyDict_GetItemWithError(*pre, s->keys[K_CONTENT]);
    if (content == NULL)
        return PyErr_Occurred() ? -1 : 0;
    return PyDict_DelItem(*pre, s->keys[K_CONTENT]);
}

static PyObject *hit_groups(StepObject *s, const Hit *h, Py_ssize_t index, int has_pre, PyObject **pre)
{
    if (h->at[index] == NULL)
        return NULL;
    PyObject *fold = PyTuple_GET_ITEM(s->folds, index);
    if (has_pre && fold == Py_None) {
        PyObject *both = native_merge_record(&s->merges[index], h, index, s->keys[K_CONTENT]);
        if (both != NULL || PyErr_Occurred())
            return both;
    }
    PyObject *fail = native_hit_groups(h, index);
    if (fail == NULL)
        return NULL;
    if (fold != Py_None && native_fold(fold, fail) < 0) /* in place */
        goto fail;
    if (!has_pre)
        return fail;
    if (hit_pre(s, h, pre) < 0)
        goto fail;
    PyObject *both = fold == Py_None ? native_merge_fast(&s->merges[index], *pre, fail) : NULL;
    if (both == NULL && !PyErr_Occurred())
        both = native_merge_slow(&s->merges[index], *pre, fail, fold == Py_None);
    Py_DECREF(fail);
    return both;
fail:
    Py_DECREF(fail);
    return NULL;
}

/* singleline.match_line + uniform.run_line for hit row i, given as Program.scan's (pre, found) dicts or as a
 * Matches' record h (pre and found NULL); 1: not ported, nothing changed (hand it to Python) */
int native_step_line(StepObject *s, Run *r, Py_ssize_t i, PyObject *pre, PyObject *found, const Hit *h)
{
    PyObject *date = PyList_GET_ITEM(r->dates, i);
    if (date == Py_None)
        return 1;
    if (h != NULL ? h->undecided || h->has_pref != s->has_pref || h->nfail != s->nfail
                  : pre == Py_None || !PyDict_CheckExact(pre) || !PyTuple_Check(found) ||
                        PyTuple_GET_SIZE(found) != s->nfail)
        return 1;
    /* the line is src[at:at + size], its span in the chunk (no str is made for the line itself) */
    PyObject *src;
    Py_ssize_t at, size;
    const char *data = native_rows_span(r->rows, i, &src, &at, &size);
    Py_ssize_t end = PyLong_AsSsize_t(PyList_GET_ITEM(r->ends, i));
    if (end < 0 || end > size) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a date end beyond its line");
        return -1;
    }
    Py_UCS4 first = end < size ? (unsigned char)data[end] : '\n'; /* a Rows chunk is ASCII */
    PyObject *content = NULL;
    if (h != NULL) {
        if (h->cstart >= 0) /* the content, not empty */
            first = (unsigned char)h->text[h->cstart];
    } else if (s->has_pref) {
        content = PyDict_GetItemWithError(pre, s->keys[K_CONTENT]);
        if (content == NULL && PyErr_Occurred())
            return -1;
        if (content != NULL && content != Py_None && !PyUnicode_CheckExact(content))
            return 1;
        if (content != NULL && content != Py_None && PyUnicode_GET_LENGTH(content) > 0)
            first = PyUnicode_READ_CHAR(content, 0);
    }
    if (first >= 128)
        return 1; /* the dispatch table is ASCII's (a native chunk is ASCII) */
    /* from here on the line is this function's */
    int result = -1, nofail = 0;
    PyObject *rest = NULL, *tup = NULL, *org = NULL, *failures = NULL, *lineno = NULL;
    PyObject *hits = NULL, *outcome = NULL, *made_pre = NULL;
    r->nhits = 0;
    if (s->has_pref) {
        if (PyObject_SetAttr(r->state, s->s_pref_last, Py_True) < 0)
            return -1;
        if (h == NULL && content != NULL) {
            Py_INCREF(content);
            if (PyDict_DelItem(pre, s->keys[K_CONTENT]) < 0) {
                Py_DECREF(content);
                return -1;
            }
            Py_DECREF(content);
        }
    }
    if ((rest = PyUnicode_Substring(src, at + end, at + size)) == NULL)
        goto done;
    if (r->texts != Py_None)
        tup = PyTuple_Pack(3, s->keys[K_EMPTY], PyList_GET_ITEM(r->texts, i), rest);
    else { /* texts None: every date text starts its line, so line i's is row[:end] */
        PyObject *text = PyUnicode_Substring(src, at, at + end);
        tup = text != NULL ? PyTuple_Pack(3, s->keys[K_EMPTY], text, rest) : NULL;
        Py_XDECREF(text);
    }
    if (tup == NULL)
        goto done;
    if ((org = PyList_New(1)) == NULL)
        goto done;
    PyList_SET_ITEM(org, 0, Py_NewRef(tup));
    if ((lineno = PyLong_FromSsize_t(r->first_lineno + i)) == NULL)
        goto done;
    const Py_ssize_t *order = s->order_items + s->order_at[first];
    Py_ssize_t norder = s->order_len[first];
    int emptied = 0; /* identify failed without check_all: the later regexes search "\n" in Python */
    /* without a prefregex its groups are {} */
    int has_pre = s->has_pref && (h != NULL ? h->pre_count : PyDict_GET_SIZE(pre)) > 0;
    for (Py_ssize_t j = 0; j < norder; j++) {
        Py_ssize_t index = order[j]; /* in range: checked by Step_init */
        PyObject *fail;
        PyObject *fold = PyTuple_GET_ITEM(s->folds, index);
        if (!emptied && h != NULL) {
            if ((fail = hit_groups(s, h, index, has_pre, &made_pre)) == NULL) {
                if (PyErr_Occurred())
                    goto done;
                continue;
            }
        } else if (!emptied) {
            fail = PyTuple_GET_ITEM(found, index);
            if (fail == Py_None)
                continue;
            if (!PyDict_CheckExact(fail)) {
                PyErr_SetString(PyExc_TypeError, "scan: groups as dicts");
                goto done;
            }
            Py_INCREF(fail);
        } else {
            PyObject *nl = PyUnicode_FromOrdinal('\n');
            PyObject *m = nl == NULL ? NULL : PyObject_CallOneArg(PyTuple_GET_ITEM(s->searches, index), nl);
            Py_XDECREF(nl);
            if (m == NULL)
                goto done;
            if (m == Py_None) {
                Py_DECREF(m);
                continue;
            }
            fail = PyObject_CallMethodNoArgs(m, s->s_groupdict);
            Py_DECREF(m);
            if (fail == NULL)
                goto done;
        }
        if (h != NULL && !emptied) {
            /* hit_groups folded and merged it */
        } else if (fold != Py_None && native_fold(fold, fail) < 0) { /* in place */
            Py_DECREF(fail);
            goto done;
        }
        if (has_pre && (h == NULL || emptied)) {
            if (h != NULL && hit_pre(s, h, &made_pre) < 0) {
                Py_DECREF(fail);
                goto done;
            }
            if (h != NULL)
                pre = made_pre;
            PyObject *both = fold == Py_None && !emptied ? native_merge_fast(&s->merges[index], pre, fail) : NULL;
            if (both == NULL && PyErr_Occurred()) {
                Py_DECREF(fail);
                goto done;
            }
            if (both == NULL)
                both = native_merge_slow(&s->merges[index], pre, fail, fold == Py_None && !emptied);
            Py_DECREF(fail);
            if (both == NULL)
                goto done;
            fail = both;
        }
        int stop = one_match(s, r, fail, org, index, date, lineno, &nofail, &failures); /* takes `fail` */
        if (stop < 0)
            goto done;
        if (stop == 2) {
            emptied = 1;
            continue;
        }
        if (stop)
            break;
    }
    int kind = nofail ? IGNORED : (r->nhits ? MATCHED : MISSED);
    r->counts[kind]++;
    for (Py_ssize_t k = 0; k < r->nhits; k++)
        r->fail_hits[r->hits[k]]++;
    int want = failures != NULL ||
               (kind == MATCHED ? r->keep_matched : kind == IGNORED ? r->keep_ignored : r->keep_missed);
    if (want) {
        if ((hits = PyTuple_New(r->nhits)) == NULL)
            goto done;
        for (Py_ssize_t k = 0; k < r->nhits; k++) {
            PyObject *num = PyLong_FromSsize_t(r->hits[k]);
            if (num == NULL)
                goto done;
            PyTuple_SET_ITEM(hits, k, num);
        }
        PyObject *fails = failures != NULL ? PyList_AsTuple(failures) : PyTuple_New(0);
        if (fails == NULL)
            goto done;
        PyObject *row = native_rows_item(r->rows, i);
        if (row == NULL) {
            Py_DECREF(fails);
            goto done;
        }
        PyObject *values[7] = {lineno, row, s->kinds[kind], hits, s->minus_one, fails, r->template};
        outcome = native_record(s->outcome, s->outcome_fields, s->outcome_slots, values);
        Py_DECREF(row);
        Py_DECREF(fails);
        if (outcome == NULL || PyList_Append(r->out, outcome) < 0)
            goto done;
    }
    result = 0;
done:
    Py_XDECREF(rest);
    Py_XDECREF(tup);
    Py_XDECREF(org);
    Py_XDECREF(failures);
    Py_XDECREF(lineno);
    Py_XDECREF(hits);
    Py_XDECREF(outcome);
    Py_XDECREF(made_pre);
    return result;
}
