/* banjail.filter._native.Step's identities: banjail.filter.identity's Identities.identify, statement for
 * statement, on the log's own Identities.addresses cache, for the forms ported here (see _native_step.c);
 * every other form is handed to Python's identify. No global state. */
#include "_native_step.h"

#include <arpa/inet.h>

/* The address cache: what Identities.address gives for (text, UNSPEC, family) depends on nothing else, and the
 * lines of one attack repeat their address, so the pair identify built for a text is kept in a direct-mapped
 * table of the step (ADDRESS_SLOTS; a text whose slot is taken replaces it). A hit skips the key tuple, its
 * hash (siphash over a new str), the lookup in Identities.addresses and the new pair. Only compact ASCII texts
 * are cached. */
int native_address_slots(StepObject *s)
{
    s->address_slots = PyMem_Calloc(ADDRESS_SLOTS, sizeof *s->address_slots);
    if (s->address_slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

void native_address_slots_free(StepObject *s)
{
    if (s->address_slots == NULL)
        return;
    for (size_t k = 0; k < ADDRESS_SLOTS; k++) {
        Py_XDECREF(s->address_slots[k].text);
        Py_XDECREF(s->address_slots[k].pair);
    }
    PyMem_Free(s->address_slots);
    s->address_slots = NULL;
}

/* the slot of (text, family), or NULL when text is not compact ASCII. The slot may hold another text of the
 * same family (the caller compares, and replaces it on a miss); one of another family is emptied. */
static AddressSlot *address_slot(StepObject *s, PyObject *text, int family)
{
    if (s->address_slots == NULL || !PyUnicode_IS_COMPACT_ASCII(text))
        return NULL;
    const unsigned char *p = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint32_t h = 2166136261u ^ (uint32_t)family; /* FNV-1a */
    for (Py_ssize_t k = 0; k < n; k++)
        h = (h ^ p[k]) * 16777619u;
    AddressSlot *slot = &s->address_slots[h & (ADDRESS_SLOTS - 1)];
    if (slot->text != NULL && slot->family != family) {
        Py_CLEAR(slot->text);
        Py_CLEAR(slot->pair);
    }
    slot->family = family;
    return slot;
}

/* Whether Identities.address(text, UNSPEC, 4) is (text, True), decided here for a compact ASCII text: that is
 * netaddr.canonical's inet_ntop(inet_pton(AF_INET, text)), the same libc functions Python's socket module
 * calls, giving the text back. A text with a NUL in it is left to Python (its inet_pton refuses one, libc's
 * would stop at it), and so is every text that comes back different. */
static int plain_ip4(PyObject *text)
{
    const char *p = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    struct in_addr packed;
    char shown[INET_ADDRSTRLEN];
    if (n >= INET_ADDRSTRLEN || (Py_ssize_t)strlen(p) != n || inet_pton(AF_INET, p, &packed) != 1)
        return 0;
    return inet_ntop(AF_INET, &packed, shown, sizeof shown) != NULL && strcmp(shown, p) == 0;
}

/* [pair], stealing pair */
static PyObject *one_pair(PyObject *pair)
{
    PyObject *ids = PyList_New(1);
    if (ids == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    PyList_SET_ITEM(ids, 0, pair);
    return ids;
}

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
    int fam;
    if (ip != Py_None) {
        int has = PyDict_Contains(fail, s->keys[K_CIDR]);
        if (has < 0)
            return NULL;
        if (has)
            goto python;
        family = s->families[1];
        fam = 1;
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
            fam = 2;
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
            fam = 0;
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
    AddressSlot *slot = address_slot(s, ip, fam);
    if (slot != NULL && slot->text != NULL && PyUnicode_Compare(slot->text, ip) == 0) /* two str: no error */
        return one_pair(Py_NewRef(slot->pair));
    if (fam == 1 && slot != NULL && plain_ip4(ip)) {
        PyObject *pair = PyTuple_Pack(2, ip, ip);
        if (pair == NULL)
            return NULL; /* the slot keeps what it held: a text is only ever stored with its pair */
        Py_XSETREF(slot->text, Py_NewRef(ip));
        Py_XSETREF(slot->pair, Py_NewRef(pair));
        return one_pair(pair);
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
    if (slot != NULL) {
        Py_XSETREF(slot->text, Py_NewRef(ip));
        Py_XSETREF(slot->pair, Py_NewRef(pair));
    }
    return one_pair(pair);
python:
    return PyObject_CallFunctionObjArgs(r->identify, fail, mlfid, NULL);
}
