/* banjail.filter._native.Step's records: banjail.model.Failure as banjail.filter.failure.failure_of builds it,
 * and any frozen slots dataclass record set as its __init__ sets it. No global state. */
#include "_native_step.h"
#include <structmember.h>

/* an object of a frozen slots dataclass, its fields set as its __init__ sets them (without running Python);
 * slots: each field's offset (native_slots), or NULL to set them through the generic setattr */
PyObject *native_record(PyObject *type, PyObject *fields, const Py_ssize_t *slots, PyObject *const *values)
{
    PyTypeObject *t = (PyTypeObject *)type;
    PyObject *obj = t->tp_alloc(t, 0);
    if (obj == NULL)
        return NULL;
    if (slots != NULL) { /* tp_alloc zeroed every slot: each takes its first value, as member_set does */
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(fields); k++)
            *(PyObject **)((char *)obj + slots[k]) = Py_NewRef(values[k]);
        return obj;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(fields); k++) {
        if (PyObject_GenericSetAttr(obj, PyTuple_GET_ITEM(fields, k), values[k]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

/* failure.failure_of */
PyObject *native_failure_of(StepObject *s, PyObject *fid, PyObject *ip, PyObject *fail, PyObject *date,
                                   PyObject *lineno, PyObject *index)
{
    PyObject *groups = NULL, *lines = NULL, *result = NULL, *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(fail, &pos, &k, &v)) {
        if (v == Py_None)
            continue;
        int internal = PySet_Contains(s->internal, k);
        if (internal < 0)
            goto done;
        if (internal)
            continue;
        PyObject *shown = PyUnicode_CheckExact(v) ? Py_NewRef(v) : PyObject_Repr(v);
        if (shown == NULL)
            goto done;
        PyObject *pair = PyTuple_Pack(2, k, shown);
        Py_DECREF(shown);
        if (pair == NULL)
            goto done;
        int bad = PyList_Append(list, pair);
        Py_DECREF(pair);
        if (bad < 0)
            goto done;
    }
    PyObject *users = get(fail, s->keys[K_PAIRS]);
    if (users == NULL && PyErr_Occurred())
        goto done;
    if (users != NULL) {
        int t = PyObject_IsTrue(users);
        if (t < 0)
            goto done;
        if (t) {
            PyObject *more = PySequence_Fast(users, "a session's user pairs: a tuple");
            if (more == NULL)
                goto done;
            for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(more); j++) {
                if (PyList_Append(list, PySequence_Fast_GET_ITEM(more, j)) < 0) {
                    Py_DECREF(more);
                    goto done;
                }
            }
            Py_DECREF(more);
        }
    }
    if ((groups = PyList_AsTuple(list)) == NULL)
        goto done;
    PyObject *matches = get(fail, s->keys[K_MATCHES]);
    if (matches == NULL && PyErr_Occurred())
        goto done;
    Py_ssize_t n = matches == NULL ? 0 : PyObject_Size(matches);
    if (n < 0 || (lines = PyTuple_New(n)) == NULL)
        goto done;
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *t = PySequence_GetItem(matches, j);
        if (t == NULL)
            goto done;
        PyObject *a = PySequence_GetItem(t, 0), *b = PySequence_GetItem(t, 1), *c = PySequence_GetItem(t, 2);
        Py_DECREF(t);
        PyObject *ab = a != NULL && b != NULL ? PyNumber_Add(a, b) : NULL;
        PyObject *abc = ab != NULL && c != NULL ? PyNumber_Add(ab, c) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_XDECREF(c);
        Py_XDECREF(ab);
        if (abc == NULL)
            goto done;
        PyTuple_SET_ITEM(lines, j, abc);
    }
    PyObject *values[7] = {fid, ip, date, lines, groups, lineno, index};
    result = native_record(s->failure, s->failure_fields, s->failure_slots, values);
done:
    Py_DECREF(list);
    Py_XDECREF(groups);
    Py_XDECREF(lines);
    return result;
}

/* Where each of `fields` lives in an object of `type`: 1 and the offsets when each is a plain object slot of
 * `type` itself (T_OBJECT_EX, writable: what a slots dataclass gets), 0 when not (set through setattr then). */
int native_slots(PyObject *type, PyObject *fields, Py_ssize_t *at)
{
    PyObject *dict = ((PyTypeObject *)type)->tp_dict;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(fields); k++) {
        PyObject *d = PyDict_GetItemWithError(dict, PyTuple_GET_ITEM(fields, k));
        if (d == NULL)
            return PyErr_Occurred() ? -1 : 0;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type))
            return 0;
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY) || m->offset <= 0 ||
            m->offset + (Py_ssize_t)sizeof(PyObject *) > ((PyTypeObject *)type)->tp_basicsize)
            return 0;
        at[k] = m->offset;
    }
    return 1;
}
