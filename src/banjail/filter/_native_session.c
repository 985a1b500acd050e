/* banjail.filter._native.Step's <F-MLFID> sessions: banjail.filter.session's merge, _add_user and newest and
 * SessionCache's get/set/unset, statement for statement, on the log's own SessionCache.entries dict (see
 * _native_step.c). No global state. */
#include "_native_step.h"

/* session.newest: a new reference to `lines` or to its newest part */
static PyObject *newest(StepObject *s, PyObject *lines)
{
    Py_ssize_t n = PyList_GET_SIZE(lines);
    if (n <= 1)
        return Py_NewRef(lines);
    Py_ssize_t start = n - s->max_lines > 0 ? n - s->max_lines : 0;
    Py_ssize_t chars = 0;
    for (Py_ssize_t k = n - 1; k >= start; k--) {
        PyObject *line = PyList_GET_ITEM(lines, k);
        if (PyTuple_CheckExact(line)) { /* a tuple line of str: the common case, without an iterator */
            Py_ssize_t parts = PyTuple_GET_SIZE(line), j = 0;
            for (; j < parts && PyUnicode_CheckExact(PyTuple_GET_ITEM(line, j)); j++)
                chars += PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(line, j));
            if (j == parts) {
                if (chars > s->max_line_chars && k < n - 1) {
                    start = k + 1;
                    break;
                }
                continue;
            }
            for (Py_ssize_t back = 0; back < j; back++) /* not all str: count this line the general way */
                chars -= PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(line, back));
        }
        PyObject *it = PyObject_GetIter(line);
        if (it == NULL)
            return NULL;
        PyObject *part;
        while ((part = PyIter_Next(it)) != NULL) {
            Py_ssize_t len = PyObject_Size(part);
            Py_DECREF(part);
            if (len < 0) {
                Py_DECREF(it);
                return NULL;
            }
            chars += len;
        }
        Py_DECREF(it);
        if (PyErr_Occurred())
            return NULL;
        if (chars > s->max_line_chars && k < n - 1) {
            start = k + 1;
            break;
        }
    }
    return start ? PyList_GetSlice(lines, start, n) : Py_NewRef(lines);
}

/* session._add_user: a borrowed reference to the session's users set (NULL: none, *err on error) */
static PyObject *add_user(StepObject *s, PyObject *fail, PyObject *user, int *err)
{
    PyObject *users = get(fail, s->keys[K_USERS]);
    if (users == NULL && PyErr_Occurred())
        goto error;
    int t = PyObject_IsTrue(user);
    if (t < 0)
        goto error;
    if (!t)
        return users == Py_None ? NULL : users;
    int have = users == NULL ? 0 : PyObject_IsTrue(users);
    if (have < 0)
        goto error;
    if (!have) {
        PyObject *fresh = PySet_New(NULL);
        if (fresh == NULL)
            goto error;
        int bad = PyDict_SetItem(fail, s->keys[K_USERS], fresh);
        Py_DECREF(fresh);
        if (bad < 0)
            goto error;
        users = fresh; /* the dict holds it */
    }
    if (!PyAnySet_Check(users)) {
        PyErr_SetString(PyExc_TypeError, "a session's users: a set");
        goto error;
    }
    int in = PySet_Contains(users, user);
    if (in < 0)
        goto error;
    if (in)
        return users;
    Py_ssize_t count = PySet_GET_SIZE(users);
    int add = count < 2;
    if (!add && count < s->max_users) {
        Py_ssize_t chars = PyObject_Size(user);
        if (chars < 0)
            goto error;
        PyObject *it = PyObject_GetIter(users), *name;
        if (it == NULL)
            goto error;
        while ((name = PyIter_Next(it)) != NULL) {
            Py_ssize_t len = PyObject_Size(name);
            Py_DECREF(name);
            if (len < 0)
                break;
            chars += len;
        }
        Py_DECREF(it);
        if (PyErr_Occurred())
            goto error;
        add = chars <= s->max_user_chars;
    }
    if (add) {
        if (PySet_Add(users, user) < 0)
            goto error;
        PyObject *names = PySequence_List(users);
        if (names == NULL || PyList_Sort(names) < 0) {
            Py_XDECREF(names);
            goto error;
        }
        Py_ssize_t n = PyList_GET_SIZE(names);
        PyObject *pairs = PyTuple_New(n);
        if (pairs == NULL) {
            Py_DECREF(names);
            goto error;
        }
        for (Py_ssize_t k = 0; k < n; k++) {
            PyObject *pair = PyTuple_Pack(2, s->keys[K_USERS], PyList_GET_ITEM(names, k));
            if (pair == NULL) {
                Py_DECREF(names);
                Py_DECREF(pairs);
                goto error;
            }
            PyTuple_SET_ITEM(pairs, k, pair);
        }
        Py_DECREF(names);
        int bad = PyDict_SetItem(fail, s->keys[K_PAIRS], pairs);
        Py_DECREF(pairs);
        if (bad < 0)
            goto error;
    }
    return users;
error:
    *err = 1;
    return NULL;
}

/* SessionCache.get: a new reference to the live session's data, NULL with no error when there is none */
static PyObject *cache_get(Run *r, PyObject *mlfid)
{
    PyObject *entry = PyDict_GetItemWithError(r->entries, mlfid);
    if (entry == NULL)
        return NULL;
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2) {
        PyErr_SetString(PyExc_TypeError, "a session entry: (data, expiry)");
        return NULL;
    }
    int alive = PyObject_RichCompareBool(PyTuple_GET_ITEM(entry, 1), r->now, Py_GT);
    if (alive < 0)
        return NULL;
    if (alive)
        return Py_NewRef(PyTuple_GET_ITEM(entry, 0));
    PyDict_DelItem(r->entries, mlfid); /* on failure its error is the caller's */
    return NULL;
}

/* SessionCache.set */
static int cache_set(Run *r, PyObject *mlfid, PyObject *fail)
{
    Py_ssize_t max_count = PyLong_AsSsize_t(r->max_count);
    if (max_count == -1 && PyErr_Occurred())
        return -1;
    if (PyDict_GET_SIZE(r->entries) >= max_count) {
        while (PyDict_GET_SIZE(r->entries)) {
            Py_ssize_t pos = 0;
            PyObject *key, *value;
            PyDict_Next(r->entries, &pos, &key, &value); /* the oldest */
            Py_INCREF(key);
            Py_INCREF(value);
            int bad = PyDict_DelItem(r->entries, key);
            Py_DECREF(key);
            if (bad < 0 || !PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 2) {
                Py_DECREF(value);
                if (!bad)
                    PyErr_SetString(PyExc_TypeError, "a session entry: (data, expiry)");
                return -1;
            }
            int alive = PyObject_RichCompareBool(PyTuple_GET_ITEM(value, 1), r->now, Py_GT);
            Py_DECREF(value);
            if (alive < 0)
                return -1;
            if (alive && PyDict_GET_SIZE(r->entries) < max_count)
                break;
        }
    }
    PyObject *expiry = PyNumber_Add(r->now, r->ttl);
    if (expiry == NULL)
        return -1;
    PyObject *entry = PyTuple_Pack(2, fail, expiry);
    Py_DECREF(expiry);
    if (entry == NULL)
        return -1;
    int bad = PyDict_SetItem(r->entries, mlfid, entry);
    Py_DECREF(entry);
    return bad;
}

/* list(a) + list(b) where a may be NULL (missing: []) */
PyObject *native_concat(PyObject *a, PyObject *b)
{
    if (a == NULL)
        return PySequence_List(b);
    return PyNumber_Add(a, b);
}

/* session.merge: a new reference to the data that now stands for the failure */
PyObject *native_merge(StepObject *s, Run *r, PyObject *mlfid, PyObject *fail, PyObject *matched)
{
    PyObject *stored = NULL, *users = NULL, *result = NULL;
    int flags = 0, t, err = 0;
    Py_INCREF(fail);
    stored = cache_get(r, mlfid);
    if (stored == NULL && PyErr_Occurred())
        goto done;
    PyObject *gained = get(fail, s->keys[K_MLFGAINED]);
    if (gained == NULL && PyErr_Occurred())
        goto done;
    t = gained == NULL ? 0 : PyObject_IsTrue(gained);
    if (t < 0)
        goto done;
    if (t) {
        flags |= 8 | 1;
        if ((t = truthy(fail, s->keys[K_NOFAIL])) < 0)
            goto done;
        if (!t && PyDict_SetItem(fail, s->keys[K_NOFAIL], gained) < 0)
            goto done;
    } else {
        if ((t = truthy(fail, s->keys[K_NOFAIL])) < 0)
            goto done;
        if (t)
            flags |= 1;
    }
    if ((t = pop_truthy(fail, s->keys[K_MLFFORGET])) < 0)
        goto done;
    if (t)
        flags |= 2;
    if (stored != NULL) {
        PyObject *user = get_or_none(fail, s->keys[K_USER]);
        if (user == NULL)
            goto done;
        users = add_user(s, stored, user, &err);
        if (err)
            goto done;
        Py_XINCREF(users);
        if ((t = pop_truthy(stored, s->keys[K_NOFAIL])) < 0)
            goto done;
        if (t)
            flags |= 4;
        if ((t = pop_truthy(stored, s->keys[K_MLFGAINED])) < 0)
            goto done;
        if (t)
            flags |= 4;
        if (flags & 8) {
            PyObject *v = pop(stored, s->keys[K_MLFPENDING]);
            if (v == NULL)
                goto done;
            Py_DECREF(v);
        }
        if ((flags & 4) == 0) {
            if ((t = truthy(stored, s->keys[K_MLFPENDING])) < 0)
                goto done;
            if (!t) {
                PyObject *v = pop(stored, s->keys[K_MATCHES]);
                if (v == NULL)
                    goto done;
                Py_DECREF(v);
            }
        }
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(fail, &pos, &k, &v)) {
            if (v != Py_None && PyDict_SetItem(stored, k, v) < 0)
                goto done;
        }
        Py_SETREF(fail, stored);
        stored = NULL;
        if (flags & 2) {
            PyObject *gone = pop(r->entries, mlfid);
            if (gone == NULL)
                goto done;
            Py_DECREF(gone);
        }
    } else if (!(flags & 2)) {
        PyObject *user = get_or_none(fail, s->keys[K_USER]);
        if (user == NULL)
            goto done;
        users = add_user(s, fail, user, &err);
        if (err)
            goto done;
        Py_XINCREF(users);
        if (cache_set(r, mlfid, fail) < 0)
            goto done;
    }
    PyObject *pending = pop(fail, s->keys[K_MLFPENDING]); /* pop("mlfpending", 0): 0 and None are both false */
    if (pending == NULL)
        goto done;
    t = PyObject_IsTrue(pending);
    Py_DECREF(pending);
    if (t < 0)
        goto done;
    if (!t && users != NULL) {
        int have = PyObject_IsTrue(users);
        if (have < 0)
            goto done;
        if (have) {
            Py_ssize_t n = PyObject_Size(users);
            if (n < 0)
                goto done;
            t = n > 1;
        }
    }
    if (t) {
        PyObject *v = pop(fail, s->keys[K_NOFAIL]);
        if (v == NULL)
            goto done;
        Py_DECREF(v);
        if ((v = pop(fail, s->keys[K_MLFGAINED])) == NULL)
            goto done;
        Py_DECREF(v);
        flags &= ~(8 | 1);
    }
    if ((flags & 1) == 0) {
        PyObject *lines = PyDict_GetItemWithError(fail, s->keys[K_NOFAIL_MATCHES]);
        if (lines == NULL && PyErr_Occurred())
            goto done;
        if (lines != NULL) {
            Py_INCREF(lines);
            if (PyDict_DelItem(fail, s->keys[K_NOFAIL_MATCHES]) < 0) {
                Py_DECREF(lines);
                goto done;
            }
        } else if ((lines = PyList_New(0)) == NULL) {
            goto done;
        }
        /* lines += ...: in place, as Python's += on the popped list */
        PyObject *more = get(fail, s->keys[K_MATCHES]);
        if (more == NULL && PyErr_Occurred()) {
            Py_DECREF(lines);
            goto done;
        }
        if (more != NULL) {
            PyObject *sum = PyNumber_InPlaceAdd(lines, more);
            Py_DECREF(lines);
            if (sum == NULL)
                goto done;
            lines = sum;
        }
        if ((flags & 8) == 0) {
            PyObject *sum = PyNumber_InPlaceAdd(lines, matched);
            Py_DECREF(lines);
            if (sum == NULL)
                goto done;
            lines = sum;
        }
        if (!PyList_Check(lines)) {
            Py_DECREF(lines);
            PyErr_SetString(PyExc_TypeError, "a session's matches: a list");
            goto done;
        }
        PyObject *kept = newest(s, lines);
        Py_DECREF(lines);
        if (kept == NULL)
            goto done;
        int bad = PyDict_SetItem(fail, s->keys[K_MATCHES], kept);
        Py_DECREF(kept);
        if (bad < 0)
            goto done;
    } else if ((flags & 3) == 1) {
        PyObject *parked = get(fail, s->keys[K_NOFAIL_MATCHES]);
        if (parked == NULL && PyErr_Occurred())
            goto done;
        PyObject *lines = native_concat(parked, matched);
        if (lines == NULL)
            goto done;
        if (!PyList_Check(lines)) {
            Py_DECREF(lines);
            PyErr_SetString(PyExc_TypeError, "a session's nofail-matches: a list");
            goto done;
        }
        PyObject *kept = newest(s, lines);
        Py_DECREF(lines);
        if (kept == NULL)
            goto done;
        int bad = PyDict_SetItem(fail, s->keys[K_NOFAIL_MATCHES], kept);
        Py_DECREF(kept);
        if (bad < 0)
            goto done;
    }
    result = Py_NewRef(fail);
done:
    Py_XDECREF(users);
    Py_XDECREF(stored);
    Py_DECREF(fail);
    return result;
}

