/* The records a chunk's lines are matched into (native_match_batch, which needs no GIL) and the rows made from
 * them (native_record_row, with the GIL): the one definition of a line's matching, which Program.scan runs on
 * its own thread and Program.start shares with a second one. See _native_pipe.h for a record's form and
 * _native_pipe.c for who matches which batch. No global state; every buffer grows as it is written.
 */
#include "_native_pipe.h"

/* the failregexes' subject when the prefregex's content is text[cstart:cstart + clen]: that content and a "\n",
 * in the line itself when the content ends it, else copied into scratch (clen + 1 bytes at least) */
static const char *subject(const char *text, Py_ssize_t size, Py_ssize_t cstart, Py_ssize_t clen, char *scratch)
{
    if (cstart + clen < size && text[cstart + clen] == '\n' && cstart + clen + 1 == size)
        return text + cstart;
    memcpy(scratch, text + cstart, (size_t)clen);
    scratch[clen] = '\n';
    return scratch;
}

static int push(Batch *b, Py_ssize_t v)
{
    if (b->used == b->cap) {
        Py_ssize_t cap = b->cap ? b->cap * 2 : 256;
        Py_ssize_t *more = PyMem_RawRealloc(b->recs, (size_t)cap * sizeof *more); /* no GIL needed */
        if (more == NULL)
            return -1;
        b->recs = more;
        b->cap = cap;
    }
    b->recs[b->used++] = v;
    return 0;
}

/* the (start, end) of each of r's named groups, (-1, -1) for one that did not take part (groupdict's None) */
static int push_groups(Batch *b, const Context *c, const Regex *r, int rc)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(r->names); k++) { /* a tuple's size: no GIL needed */
        Py_ssize_t g = r->numbers[k];
        int unset = g < 0 || g >= rc || ov[2 * g] == PCRE2_UNSET;
        if (push(b, unset ? -1 : (Py_ssize_t)ov[2 * g]) < 0 || push(b, unset ? -1 : (Py_ssize_t)ov[2 * g + 1]) < 0)
            return -1;
    }
    return 0;
}

/* One line's matching: the literal prefilter, the prefregex (its content becomes the failregexes' subject), then
 * the failregexes its first character dispatches to. Appends the line's record to b (none when no failregex
 * matched; the record's form is in _native_pipe.h). -1: out of memory. */
static int match_line(const Lines *v, const Context *c, Batch *b, Py_ssize_t line)
{
    const ProgramObject *self = v->program;
    const char *text = v->data + v->starts[line], *buf = text;
    Py_ssize_t size = v->ends[line] - v->starts[line], bufsize = size, mark = b->used;
    int rc;
    if (self->candidates.code != NULL) {
        rc = native_match(self->candidates.code, self->candidates.jit, text, size, c->md, c->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc < 0)
            goto undecided;
    }
    Py_ssize_t cstart = -1, clen = 0;
    if (self->pref.code != NULL) {
        rc = native_match(self->pref.code, self->pref.jit, text, size, c->md, c->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc < 0)
            goto undecided;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        int k = self->content;
        if (k >= 0 && k < rc && ov[2 * k] != PCRE2_UNSET && ov[2 * k + 1] > ov[2 * k]) {
            cstart = (Py_ssize_t)ov[2 * k];
            clen = (Py_ssize_t)(ov[2 * k + 1] - ov[2 * k]);
            buf = subject(text, size, cstart, clen, c->scratch);
            bufsize = clen + 1;
        }
        if (push(b, line) < 0 || push(b, REC_HIT) < 0 || push(b, cstart) < 0 || push(b, clen) < 0 ||
            push_groups(b, c, &self->pref, rc) < 0)
            return -1;
    } else if (push(b, line) < 0 || push(b, REC_HIT) < 0 || push(b, -1) < 0 || push(b, 0) < 0) {
        return -1;
    }
    Py_ssize_t count_at = b->used;
    if (push(b, 0) < 0)
        return -1;
    unsigned char first = (unsigned char)buf[0];
    const Py_ssize_t *order = self->order_items + self->orders[self->table[first & 0x7F]][0];
    Py_ssize_t count = self->orders[self->table[first & 0x7F]][1];
    for (Py_ssize_t j = 0; j < count; j++) {
        const Regex *r = &self->fail[order[j]];
        rc = native_match(r->code, r->jit, buf, bufsize, c->md, c->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            continue;
        if (rc < 0)
            goto undecided;
        if (push(b, order[j]) < 0 || push_groups(b, c, r, rc) < 0)
            return -1;
        b->recs[count_at]++;
    }
    if (b->recs[count_at] == 0)
        b->used = mark; /* no failregex matched: no row */
    return 0;
undecided: /* PCRE2 could not decide (a match limit): Python's re decides the line */
    b->used = mark;
    return push(b, line) < 0 || push(b, REC_UNDECIDED) < 0 ? -1 : 0;
}

int native_match_batch(const Lines *v, const Context *c, Py_ssize_t first, Py_ssize_t end, Batch *b)
{
    for (Py_ssize_t line = first; line < end; line++)
        if (match_line(v, c, b, line) < 0)
            return -1;
    return 0;
}

Py_ssize_t native_record_size(const ProgramObject *p, const Py_ssize_t *rec)
{
    if (rec[1] == REC_UNDECIDED)
        return 2;
    Py_ssize_t n = 4 + (p->pref.code != NULL ? 2 * PyTuple_GET_SIZE(p->pref.names) : 0);
    Py_ssize_t matches = rec[n++];
    for (Py_ssize_t k = 0; k < matches; k++)
        n += 1 + 2 * PyTuple_GET_SIZE(p->fail[rec[n]].names);
    return n;
}

PyObject *native_record_row(const Lines *v, char *scratch, const Py_ssize_t *rec)
{
    const ProgramObject *p = v->program;
    Py_ssize_t line = rec[0];
    if (rec[1] == REC_UNDECIDED)
        return Py_BuildValue("(nOO)", line, Py_None, Py_None);
    const char *text = v->data + v->starts[line], *buf = text;
    Py_ssize_t size = v->ends[line] - v->starts[line], cstart = rec[2], clen = rec[3], at = 4;
    if (cstart >= 0) /* the failregexes' subject, as the matching had it */
        buf = subject(text, size, cstart, clen, scratch);
    PyObject *pre = NULL, *found = NULL, *index = NULL, *row = NULL;
    if (p->pref.code != NULL) {
        pre = native_groupdict(&p->pref, text, rec + at);
        at += 2 * PyTuple_GET_SIZE(p->pref.names);
    } else {
        pre = PyDict_New();
    }
    if (pre == NULL || (found = PyTuple_New(p->nfail)) == NULL)
        goto fail;
    for (Py_ssize_t k = 0; k < p->nfail; k++)
        PyTuple_SET_ITEM(found, k, Py_NewRef(Py_None));
    Py_ssize_t matches = rec[at++];
    for (Py_ssize_t k = 0; k < matches; k++) {
        Py_ssize_t i = rec[at++];
        PyObject *d = native_groupdict(&p->fail[i], buf, rec + at);
        if (d == NULL)
            goto fail;
        at += 2 * PyTuple_GET_SIZE(p->fail[i].names);
        Py_SETREF(PyTuple_GET_ITEM(found, i), d);
    }
    if ((index = PyLong_FromSsize_t(line)) == NULL || (row = PyTuple_New(3)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(row, 0, index);
    PyTuple_SET_ITEM(row, 1, pre);
    PyTuple_SET_ITEM(row, 2, found);
    return row;
fail:
    Py_XDECREF(index);
    Py_XDECREF(pre);
    Py_XDECREF(found);
    return NULL;
}

void native_hit_read(const Lines *v, char *scratch, const Py_ssize_t *rec, const Py_ssize_t **at,
                     Py_ssize_t pre_count, Hit *h)
{
    const ProgramObject *p = v->program;
    Py_ssize_t line = rec[0], word = 4;
    h->line = line;
    h->undecided = rec[1] == REC_UNDECIDED;
    h->has_pref = p->pref.code != NULL;
    h->pre_count = pre_count;
    h->nfail = p->nfail;
    h->at = at;
    h->lines = v;
    h->rec = rec;
    h->scratch = scratch;
    h->text = h->buf = v->data + v->starts[line];
    h->cstart = -1;
    for (Py_ssize_t k = 0; k < p->nfail; k++)
        at[k] = NULL;
    if (h->undecided)
        return;
    if (rec[2] >= 0) { /* the failregexes' subject, as the matching had it */
        h->cstart = rec[2];
        h->buf = subject(h->text, v->ends[line] - v->starts[line], rec[2], rec[3], scratch);
    }
    if (h->has_pref)
        word += 2 * PyTuple_GET_SIZE(p->pref.names);
    Py_ssize_t matches = rec[word++];
    for (Py_ssize_t k = 0; k < matches; k++) {
        Py_ssize_t i = rec[word++];
        at[i] = rec + word;
        word += 2 * PyTuple_GET_SIZE(p->fail[i].names);
    }
}

Py_ssize_t native_pre_count(const ProgramObject *p)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; p->pref.code != NULL && k < PyTuple_GET_SIZE(p->pref.names); k++) {
        PyObject *name = PyTuple_GET_ITEM(PyTuple_GET_ITEM(p->pref.names, k), 0);
        n += !(PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "content") == 0);
    }
    return n;
}

PyObject *native_hit_row(const Hit *h)
{
    return native_record_row(h->lines, h->scratch, h->rec);
}

PyObject *native_hit_pre(const Hit *h)
{
    const ProgramObject *p = ((const Lines *)h->lines)->program;
    return h->has_pref ? native_groupdict(&p->pref, h->text, h->rec + 4) : PyDict_New();
}

PyObject *native_hit_groups(const Hit *h, Py_ssize_t i)
{
    const ProgramObject *p = ((const Lines *)h->lines)->program;
    return native_groupdict(&p->fail[i], h->buf, h->at[i]);
}

PyObject *native_hit_names(const Hit *h, Py_ssize_t i)
{
    const ProgramObject *p = ((const Lines *)h->lines)->program;
    return i < 0 ? p->pref.names : p->fail[i].names;
}

/* sets the groups of one match in d: names' k-th where it took part (and take[k], with take) */
static int set_groups(PyObject *d, PyObject *names, const char *subject, const Py_ssize_t *pairs, const char *take)
{
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(names); k++) {
        Py_ssize_t start = pairs[2 * k];
        if (start < 0 || (take != NULL && !take[k]))
            continue;
        PyObject *value = native_ascii(subject + start, pairs[2 * k + 1] - start);
        int bad = value == NULL || PyDict_SetItem(d, PyTuple_GET_ITEM(PyTuple_GET_ITEM(names, k), 0), value) < 0;
        Py_XDECREF(value);
        if (bad)
            return -1;
    }
    return 0;
}

PyObject *native_hit_merged(const Hit *h, Py_ssize_t i, PyObject *blank, const char *take)
{
    const ProgramObject *p = ((const Lines *)h->lines)->program;
    PyObject *both = PyDict_Copy(blank);
    if (both == NULL)
        return NULL;
    if ((h->has_pref && set_groups(both, p->pref.names, h->text, h->rec + 4, take) < 0) ||
        set_groups(both, p->fail[i].names, h->buf, h->at[i], NULL) < 0)
        Py_CLEAR(both);
    return both;
}
