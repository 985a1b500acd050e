/* banjail.filter._native.DateCut.runs: the lines of a chunk cut into runs whose date texts differ only in the
 * seconds and the fraction of a second (see _native_dates.c's note for what runs takes and returns), so that
 * the uniform path parses one date per run's head and adds the seconds.
 *
 * In its own file because the runs are their own concept beside the cuts, without and count of
 * _native_dates.c, whose line matching (native_line_date) they share. Moved from _native_dates.c unchanged.
 * No global state; every buffer is sized from the chunk.
 */
#include "_native_dates.h"

/* Whether the len bytes at a and b are equal outside the spans [s1, e1) and [s2, e2) (either may be -1, -1):
 * one memcmp per stretch between the spans rather than a test per byte. */
static int same_outside(const char *a, const char *b, Py_ssize_t len, Py_ssize_t s1, Py_ssize_t e1, Py_ssize_t s2,
                        Py_ssize_t e2)
{
    for (Py_ssize_t k = 0; k < len;) {
        if (k >= s1 && k < e1) {
            k = e1;
            continue;
        }
        if (k >= s2 && k < e2) {
            k = e2;
            continue;
        }
        Py_ssize_t stop = len; /* the next span's start after k, or the end */
        if (s1 > k && s1 < stop)
            stop = s1;
        if (s2 > k && s2 < stop)
            stop = s2;
        if (memcmp(a + k, b + k, (size_t)(stop - k)) != 0)
            return 0;
        k = stop;
    }
    return 1;
}

/* The value of 1 or 2 ASCII digits, else 255. */
static unsigned char digits_value(const char *at, Py_ssize_t len)
{
    if (len < 1 || len > 2)
        return 255;
    int value = 0;
    for (Py_ssize_t k = 0; k < len; k++) {
        if (at[k] < '0' || at[k] > '9')
            return 255;
        value = value * 10 + (at[k] - '0');
    }
    return (unsigned char)value;
}

PyObject *native_datecut_runs(DateCutObject *self, PyObject *args)
{
    PyObject *chunk;
    int seconds, fraction;
    if (!PyArg_ParseTuple(args, "Uii", &chunk, &seconds, &fraction))
        return NULL;
    const char *data;
    Py_ssize_t size;
    uint32_t groups;
    int usable = native_chunk_groups(self, chunk, fraction, &data, &size, &groups);
    if (usable <= 0)
        return usable < 0 ? NULL : Py_NewRef(Py_None);
    if (seconds < 1 || (uint32_t)seconds > groups)
        Py_RETURN_NONE;
    Py_ssize_t lines = 0;
    for (Py_ssize_t at = 0; at < size; lines++)
        at = (const char *)memchr(data + at, '\n', (size_t)(size - at)) - data + 1;
    pcre2_match_data *md = pcre2_match_data_create(groups + 1, NULL);
    /* the head's group spans relative to its text, then this line's: groups 1..groups, 2 each */
    Py_ssize_t *spans = PyMem_Malloc(sizeof(Py_ssize_t) * 4 * ((size_t)groups + 1));
    PyObject *starts = PyList_New(0), *ends = PyList_New(0), *heads = PyList_New(0);
    PyObject *secs = PyBytes_FromStringAndSize(NULL, lines);
    PyObject *result = NULL;
    const Prefetched *pre = NULL;
    if (md == NULL || spans == NULL || starts == NULL || ends == NULL || heads == NULL || secs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    unsigned char *sec = (unsigned char *)PyBytes_AS_STRING(secs);
    Py_ssize_t *head = spans, *mine = spans + 2 * ((size_t)groups + 1);
    const char *head_text = NULL;
    Py_ssize_t head_len = -1, line = 0;
    int shifted = 0;
    Prefetched prefetched;
    pre = native_prefetched(self, chunk, lines, &prefetched);
    for (Py_ssize_t at = 0; at < size; line++) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data, first, len;
        const PCRE2_SIZE *ov;
        int rc = native_line_date_at(self, pre, line, data + at, end - at, md, starts, ends, &first, &len, &ov);
        if (rc <= 0)
            goto none_or_error;
        shifted |= first != 0;
        for (uint32_t g = 1; g <= groups; g++) {
            int set = (int)g < rc && ov[2 * g] != PCRE2_UNSET;
            mine[2 * g] = set ? (Py_ssize_t)ov[2 * g] - first : -1;
            mine[2 * g + 1] = set ? (Py_ssize_t)ov[2 * g + 1] - first : -1;
        }
        const char *text = data + at + first;
        Py_ssize_t ss = mine[2 * seconds], se = mine[2 * seconds + 1];
        Py_ssize_t fs = fraction >= 0 ? mine[2 * fraction] : -1, fe = fraction >= 0 ? mine[2 * fraction + 1] : -1;
        sec[line] = ss >= 0 ? digits_value(text + ss, se - ss) : 255;
        /* the same run as its head: the same length, every group at the same place, the same bytes but for the
         * seconds and the fraction of a second */
        int same = head_text != NULL && len == head_len &&
                   memcmp(head + 2, mine + 2, sizeof(Py_ssize_t) * 2 * (size_t)groups) == 0 &&
                   same_outside(text, head_text, len, ss, se, fs, fe);
        if (!same) {
            PyObject *regs = PyTuple_New((Py_ssize_t)groups);
            if (regs == NULL)
                goto done;
            for (uint32_t g = 1; g <= groups; g++) {
                PyObject *pair = Py_BuildValue("(nn)", mine[2 * g], mine[2 * g + 1]);
                if (pair == NULL) {
                    Py_DECREF(regs);
                    goto done;
                }
                PyTuple_SET_ITEM(regs, (Py_ssize_t)g - 1, pair);
            }
            if (native_append_new(heads,
                                  Py_BuildValue("(nNN)", line, PyUnicode_DecodeASCII(text, len, NULL), regs)) < 0)
                goto done;
            Py_ssize_t *swap = head;
            head = mine;
            mine = swap;
            head_text = text;
            head_len = len;
        }
        at = end + 1;
    }
    result = PyTuple_Pack(4, shifted ? starts : Py_None, ends, heads, secs);
    goto done;
none_or_error:
    if (!PyErr_Occurred())
        result = Py_NewRef(Py_None);
done:
    if (pre != NULL)
        native_prefetch_done(self);
    if (md != NULL)
        pcre2_match_data_free(md);
    PyMem_Free(spans);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(heads);
    Py_XDECREF(secs);
    return result;
}

/* run_epochs(dates, base, seconds, head, end) -> bool: for a minute run's lines head..end-1 (banjail.filter.dateruns
 * .minute_runs), when every second in seconds[head:end] is 0-59, dates.extend(base + s for s in
 * seconds[head + 1:end]) and True; else False with dates unchanged. Each base + s is the same double addition
 * Python's float + int makes. */
PyObject *native_run_epochs(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *dates;
    double base;
    Py_buffer seconds;
    Py_ssize_t head, end;
    if (!PyArg_ParseTuple(args, "O!dy*nn", &PyList_Type, &dates, &base, &seconds, &head, &end))
        return NULL;
    PyObject *result = NULL;
    if (head < 0 || end > seconds.len || head >= end) {
        PyErr_SetString(PyExc_ValueError, "run_epochs: head < end within seconds");
        goto done;
    }
    const unsigned char *s = seconds.buf;
    for (Py_ssize_t i = head; i < end; i++)
        if (s[i] > 59) {
            result = Py_NewRef(Py_False);
            goto done;
        }
    for (Py_ssize_t i = head + 1; i < end; i++)
        if (native_append_new(dates, PyFloat_FromDouble(base + (double)s[i])) < 0)
            goto done;
    result = Py_NewRef(Py_True);
done:
    PyBuffer_Release(&seconds);
    return result;
}
