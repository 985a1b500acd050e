/* banjail.filter._native.Step's identities: banjail.filter.identity's Identities.identify, statement for
 * statement, on the log's own Identities.addresses cache, for the forms ported here (see _native_step.c);
 * every other form is handed to Python's identify. No global state. */
#include "_native_step.h"

/* identity.Identities.identify: a new reference to the list of (id, address or None), or Py_None while the
 * session has no id yet; NULL with an error (a ValueError where upstream fails on the line) */
PyObject *native_identify(StepObject *s, Run *r, PyObject *fail, PyObject *mlfid)
{
    if (r->raw)
        goto python;
    PyObject *fid = get_or_none(fail, s->keys[K_FID]);
    if (fid == NULL)
        return NULL;
    PyObject *ip = get_or_none(fail, s->keys[K_IP4]);
    if (ip == NULL)
        return NULL;
    PyObject *family;
    if (ip != Py_None) {
        int has = PyDict_Contains(fail, s->keys[K_CIDR]);
        if (has < 0)
            return NULL;
        if (has)
            goto python;
        family = s->families[1];
    } else {
        if ((ip = get_or_none(fail, s->keys[K_IP6])) == NULL)
            return NULL;
        if (ip != Py_None) {
            int t = truthy(fail, s->keys[K_CIDR]);
            if (t < 0)
                return NULL;
            if (t)
                goto python;
            family = s->families[2];
        } else {
            PyObject *dns = get_or_none(fail, s->keys[K_DNS]);
            if (dns == NULL)
                return NULL;
            if (dns != Py_None)
                goto python; /* a name to resolve */
            if (fid == Py_None && mlfid == Py_None) {
                PyErr_SetString(PyExc_ValueError, "no identifier group matched");
                return NULL;
            }
            ip = fid;
            family = s->families[0];
        }
    }
    if (ip == Py_None) {
        if (PyDict_SetItem(fail, s->keys[K_MLFPENDING], s->one) < 0)
            return NULL;
        return Py_NewRef(Py_None);
    }
    if (!PyUnicode_CheckExact(ip))
        goto python;
    if (fid != Py_None) {
        int same = PyObject_RichCompareBool(fid, ip, Py_EQ);
        if (same < 0)
            return NULL;
        if (!same)
            goto python; /* an F-ID with an address: netaddr.identifier */
    }
    PyObject *key = PyTuple_Pack(3, ip, s->unspec, family);
    if (key == NULL)
        return NULL;
    PyObject *cached = PyDict_GetItemWithError(r->addresses, key);
    Py_XINCREF(cached);
    if (cached == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return NULL;
        }
        cached = PyObject_CallFunctionObjArgs(r->address, ip, s->unspec, family, NULL);
    }
    Py_DECREF(key);
    if (cached == NULL)
        return NULL;
    if (!PyTuple_Check(cached) || PyTuple_GET_SIZE(cached) != 2) {
        Py_DECREF(cached);
        PyErr_SetString(PyExc_TypeError, "Identities.address: (text, valid)");
        return NULL;
    }
    PyObject *address = PyTuple_GET_ITEM(cached, 0);
    int valid = PyObject_IsTrue(PyTuple_GET_ITEM(cached, 1));
    PyObject *pair = valid < 0 ? NULL : PyTuple_Pack(2, address, valid ? address : Py_None);
    Py_DECREF(cached);
    if (pair == NULL)
        return NULL;
    PyObject *ids = PyList_New(1);
    if (ids == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    PyList_SET_ITEM(ids, 0, pair);
    return ids;
python:
    return PyObject_CallFunctionObjArgs(r->identify, fail, mlfid, NULL);
}
