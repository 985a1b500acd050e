/* banjail.filter._native.Step's merge of a hit's groups: {**prefregex groups, **failregex groups}, as
 * banjail.filter.singleline merges them, built from the shape a failregex's first merge left (see Merge in
 * _native_step.h). No global state: the shapes live in the Step object. */
#include "_native_step.h"

/* {**pre, **fail} as dict(pre).update(fail) builds it; with `take`, the shape is kept in m for native_merge_fast */
PyObject *native_merge_slow(Merge *m, PyObject *pre, PyObject *fail, int take)
{
    PyObject *both = PyDict_Copy(pre);
    if (both == NULL || PyDict_Update(both, fail) < 0) {
        Py_XDECREF(both);
        return NULL;
    }
    if (!take || m->blank != NULL)
        return both;
    PyObject *blank = PyDict_Copy(both), *pre_keys = PyDict_Keys(pre), *fail_keys = PyDict_Keys(fail);
    PyObject *pk = pre_keys != NULL ? PyList_AsTuple(pre_keys) : NULL;
    PyObject *fk = fail_keys != NULL ? PyList_AsTuple(fail_keys) : NULL;
    Py_XDECREF(pre_keys);
    Py_XDECREF(fail_keys);
    char *only = pk != NULL ? PyMem_Malloc((size_t)PyTuple_GET_SIZE(pk) + 1) : NULL;
    int bad = blank == NULL || pk == NULL || fk == NULL || only == NULL;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (!bad && PyDict_Next(both, &pos, &k, &v))
        bad = PyDict_SetItem(blank, k, Py_None) < 0;
    for (Py_ssize_t j = 0; !bad && j < PyTuple_GET_SIZE(pk); j++) {
        int has = PyDict_Contains(fail, PyTuple_GET_ITEM(pk, j));
        bad = has < 0;
        only[j] = (char)!has;
    }
    if (bad) {
        Py_XDECREF(blank);
        Py_XDECREF(pk);
        Py_XDECREF(fk);
        PyMem_Free(only);
        Py_DECREF(both);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return NULL;
    }
    m->blank = blank;
    m->pre_keys = pk;
    m->fail_keys = fk;
    m->pre_only = only;
    return both;
}

/* native_merge_slow's result from the kept shape: a copy of the blank with the values that are not None set; NULL
 * without an error when pre or fail has other keys (or another order) than the shape: native_merge_slow then */
PyObject *native_merge_fast(const Merge *m, PyObject *pre, PyObject *fail)
{
    if (m->blank == NULL || PyDict_GET_SIZE(pre) != PyTuple_GET_SIZE(m->pre_keys) ||
        PyDict_GET_SIZE(fail) != PyTuple_GET_SIZE(m->fail_keys))
        return NULL;
    PyObject *both = PyDict_Copy(m->blank);
    if (both == NULL)
        return NULL;
    Py_ssize_t pos = 0, j = 0;
    PyObject *k, *v;
    /* a key of both dicts takes fail's value: pre's are set only where fail has no such group */
    while (PyDict_Next(pre, &pos, &k, &v)) {
        if (k != PyTuple_GET_ITEM(m->pre_keys, j))
            goto none;
        if (m->pre_only[j] && v != Py_None && PyDict_SetItem(both, k, v) < 0)
            goto none;
        j++;
    }
    for (pos = 0, j = 0; PyDict_Next(fail, &pos, &k, &v); j++) {
        if (k != PyTuple_GET_ITEM(m->fail_keys, j))
            goto none;
        if (v != Py_None && PyDict_SetItem(both, k, v) < 0)
            goto none;
    }
    return both;
none: /* another shape (no error set), or an error */
    Py_DECREF(both);
    return NULL;
}

/* whether names (a tuple of (name, group number)), without `skip`, are keys (a tuple) in order */
static int same_names(PyObject *names, PyObject *keys, PyObject *skip)
{
    Py_ssize_t j = 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(names); k++) {
        PyObject *name = PyTuple_GET_ITEM(PyTuple_GET_ITEM(names, k), 0);
        int eq = skip != NULL ? PyObject_RichCompareBool(name, skip, Py_EQ) : 0;
        if (eq < 0)
            return -1;
        if (eq)
            continue;
        if (j == PyTuple_GET_SIZE(keys))
            return 0;
        if ((eq = PyObject_RichCompareBool(name, PyTuple_GET_ITEM(keys, j++), Py_EQ)) <= 0)
            return eq;
    }
    return j == PyTuple_GET_SIZE(keys);
}

/* checks m's shape against the hit's Program (once per Program): sets m->direct and m->take; -1 with an error */
static int check_shape(Merge *m, const Hit *h, Py_ssize_t i, PyObject *content)
{
    PyObject *pre = native_hit_names(h, -1), *fail = native_hit_names(h, i);
    int same = h->has_pref ? same_names(pre, m->pre_keys, content) : PyTuple_GET_SIZE(m->pre_keys) == 0;
    if (same > 0)
        same = same_names(fail, m->fail_keys, NULL);
    if (same < 0)
        return -1;
    char *take = NULL;
    Py_ssize_t n = h->has_pref ? PyTuple_GET_SIZE(pre) : 0;
    if (same && (take = PyMem_Calloc((size_t)(n ? n : 1), 1)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0, j = 0; same && k < n; k++) {
        int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(PyTuple_GET_ITEM(pre, k), 0), content, Py_EQ);
        if (eq < 0) {
            PyMem_Free(take);
            return -1;
        }
        if (!eq)
            take[k] = m->pre_only[j++]; /* the k-th name is pre's j-th key (same_names) */
    }
    PyMem_Free(m->take);
    m->take = take;
    m->direct = same;
    Py_XSETREF(m->seen_pre, Py_NewRef(pre));
    Py_XSETREF(m->seen_fail, Py_NewRef(fail));
    return 0;
}

PyObject *native_merge_record(Merge *m, const Hit *h, Py_ssize_t i, PyObject *content)
{
    if (m->blank == NULL)
        return NULL;
    if ((m->seen_pre != native_hit_names(h, -1) || m->seen_fail != native_hit_names(h, i)) &&
        check_shape(m, h, i, content) < 0)
        return NULL;
    if (!m->direct)
        return NULL;
    /* merge_fast's result: pre's values where the failregex has no such group, then fail's, each if not None */
    return native_hit_merged(h, i, m->blank, m->take);
}

/* the shapes of a Step's nfail failregexes */
void native_merges_free(Merge *merges, Py_ssize_t nfail)
{
    for (Py_ssize_t k = 0; merges != NULL && k < nfail; k++) {
        Py_XDECREF(merges[k].blank);
        Py_XDECREF(merges[k].pre_keys);
        Py_XDECREF(merges[k].fail_keys);
        PyMem_Free(merges[k].pre_only);
        Py_XDECREF(merges[k].seen_pre);
        Py_XDECREF(merges[k].seen_fail);
        PyMem_Free(merges[k].take);
    }
    PyMem_Free(merges);
}

/* one (group, target) pair of a fold: its target, and the group's and the target's values in d (borrowed; NULL:
 * missing). -1 with an error. */
static int fold_pair(PyObject *pair, PyObject *d, PyObject **target, PyObject **value, PyObject **current)
{
    PyObject *key;
    if (!PyArg_ParseTuple(pair, "OO", &key, target))
        return -1;
    if ((*value = PyDict_GetItemWithError(d, key)) == NULL && PyErr_Occurred())
        return -1;
    if ((*current = PyDict_GetItemWithError(d, *target)) == NULL && PyErr_Occurred())
        return -1;
    return 0;
}

/* CompiledRegex.fold(d) in place, statement for statement, from its (alt, tuples) pairs: each alt (group, target)
 * fills target with the group's value when that is true and target's is not; each tuple (group, target) makes
 * target (*target, value) when target holds a tuple, else (target, value), value None unless a str. -1: error */
int native_fold(PyObject *pairs, PyObject *d)
{
    if (!PyTuple_Check(pairs) || PyTuple_GET_SIZE(pairs) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(pairs, 0)) ||
        !PyTuple_Check(PyTuple_GET_ITEM(pairs, 1))) {
        PyErr_SetString(PyExc_TypeError, "folds: (alt pairs, tuple pairs) or None per failregex");
        return -1;
    }
    PyObject *alt = PyTuple_GET_ITEM(pairs, 0), *tuples = PyTuple_GET_ITEM(pairs, 1), *target, *value, *current;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(alt); k++) {
        if (fold_pair(PyTuple_GET_ITEM(alt, k), d, &target, &value, &current) < 0)
            return -1;
        int t = value == NULL ? 0 : PyObject_IsTrue(value);
        if (t <= 0) {
            if (t < 0)
                return -1;
            continue;
        }
        int have = current == NULL ? 0 : PyObject_IsTrue(current);
        if (have < 0 || (!have && PyDict_SetItem(d, target, value) < 0))
            return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tuples); k++) {
        if (fold_pair(PyTuple_GET_ITEM(tuples, k), d, &target, &value, &current) < 0)
            return -1;
        PyObject *item = value != NULL && PyUnicode_Check(value) ? value : Py_None;
        PyObject *made;
        if (current != NULL && PyTuple_Check(current)) {
            Py_ssize_t n = PyTuple_GET_SIZE(current);
            made = PyTuple_New(n + 1);
            for (Py_ssize_t j = 0; made != NULL && j < n; j++)
                PyTuple_SET_ITEM(made, j, Py_NewRef(PyTuple_GET_ITEM(current, j)));
            if (made != NULL)
                PyTuple_SET_ITEM(made, n, Py_NewRef(item));
        } else {
            made = PyTuple_Pack(2, current != NULL ? current : Py_None, item);
        }
        int bad = made == NULL || PyDict_SetItem(d, target, made) < 0;
        Py_XDECREF(made);
        if (bad)
            return -1;
    }
    return 0;
}
