/* banjail.cli._jsonline: fail2ban-regex --json's line for one failure, in C.
 *
 * encode(failure, set_groups) returns the str that banjail.cli.failures.json_line (the reference, pure Python)
 * returns for the same banjail.model.Failure: json.dumps of {"line", "id", "ip", "time", "groups", "matches"}
 * with ensure_ascii=False and the default separators, the groups as group_values makes them (a key in
 * `set_groups` is the list of its values in order, any other key its last value, each key where it first
 * appears). It accepts only the field types the matcher makes (exact str, int, float, None; groups a tuple of
 * pairs of str; lines a tuple or list of str) and raises TypeError for anything else, so that the caller can
 * hand such a failure to the reference. The text is written in full before one str is made; no global state.
 * This file holds which fields the line has and how each is checked; the text buffer and json's string
 * escaping are in _jsontext.c.
 */
#include "_jsontext.h"
#include <math.h>
#include <structmember.h>

/* Where the fields a line reads live in objects of one class: the offsets of plain object slots of the class
 * itself (what a slots dataclass has), found once per class instead of by a getattr per field (a sixth of the
 * writer's instructions). `type` is held; `version` is its tp_version_tag when they were found, so a class
 * whose dict changed since (its tag then changes) is looked at again. direct 0: read through getattr. */
typedef struct {
    PyObject *type;
    unsigned int version;
    int direct;
    Py_ssize_t at[6];
} Slots;

enum { F_LINENO, F_FID, F_IP, F_TIME, F_GROUPS, F_LINES, F_COUNT };

typedef struct {
    PyObject *names[F_COUNT]; /* the Failure fields a line reads, in F_* order */
    PyObject *failures;
    Slots failure_slots, outcome_slots;
} State;

/* c's offsets for `obj`'s class, found when the class is another or has changed: 1 direct, 0 through getattr */
static int slots_for(Slots *c, PyObject *obj, PyObject *const *names, int n)
{
    PyTypeObject *t = Py_TYPE(obj);
    if (!(t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG))
        return 0; /* no tag to tell a change by (getattr's lookup gives the class one) */
    if (c->type == (PyObject *)t && c->version == t->tp_version_tag)
        return c->direct;
    Py_XSETREF(c->type, Py_NewRef((PyObject *)t));
    c->version = t->tp_version_tag;
    c->direct = 0;
    for (int k = 0; k < n; k++) {
        PyObject *d = PyDict_GetItemWithError(t->tp_dict, names[k]); /* the class's own: first in its MRO */
        if (d == NULL) {
            PyErr_Clear(); /* getattr then says what is wrong */
            return 0;
        }
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type))
            return 0;
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX || m->offset <= 0 || m->offset + (Py_ssize_t)sizeof(PyObject *) > t->tp_basicsize)
            return 0;
        c->at[k] = m->offset;
    }
    c->direct = 1;
    return 1;
}

/* a new reference to field k of obj: from its slot when `direct` and set, else getattr (which also raises for
 * an unset slot, as reading the field does) */
static PyObject *field(const Slots *c, int direct, PyObject *obj, int k, PyObject *name)
{
    if (direct) {
        PyObject *v = *(PyObject **)((char *)obj + c->at[k]);
        if (v != NULL)
            return Py_NewRef(v);
    }
    return PyObject_GetAttr(obj, name);
}

static int refuse(const char *what)
{
    PyErr_Format(PyExc_TypeError, "_jsonline: %s is not of a type it writes", what);
    return -1;
}

/* An int or a float as json writes it (int.__repr__, float.__repr__, NaN/Infinity/-Infinity). */
static int put_number(Out *o, PyObject *v, const char *what)
{
    PyObject *text;
    if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        if (isnan(d))
            return PUT_LIT(o, "NaN");
        if (isinf(d))
            return put_ascii(o, d > 0 ? "Infinity" : "-Infinity");
        if (o->float_text != NULL && memcmp(&d, &o->float_value, sizeof d) == 0)
            return put_raw(o, o->float_text);
        text = PyFloat_Type.tp_repr(v);
        if (text == NULL)
            return -1;
        Py_XSETREF(o->float_text, Py_NewRef(text));
        o->float_value = d;
    } else if (PyLong_CheckExact(v)) {
        int overflow;
        long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (n == -1 && PyErr_Occurred())
            return -1;
        if (!overflow) { /* int.__repr__'s decimal digits, without making the str */
            char digits[24];
            char *end = digits + sizeof digits, *at = end;
            unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
            do
                *--at = (char)('0' + u % 10);
            while ((u /= 10) != 0);
            if (n < 0)
                *--at = '-';
            return put_bytes(o, at, end - at);
        }
        text = PyLong_Type.tp_repr(v);
    } else {
        return refuse(what);
    }
    if (text == NULL)
        return -1;
    int bad = put_raw(o, text);
    Py_DECREF(text);
    return bad;
}

static int put_text(Out *o, PyObject *v, const char *what)
{
    if (!PyUnicode_CheckExact(v))
        return refuse(what);
    return put_string(o, v);
}

static int same_key(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    if (PyUnicode_GET_LENGTH(a) != PyUnicode_GET_LENGTH(b))
        return 0;
    return PyUnicode_Compare(a, b) == 0;
}

#define SMALL_GROUPS 16

/* The groups object: pairs (key, value) of exact str, merged as group_values does. */
static int put_groups(Out *o, PyObject *groups, PyObject *set_groups)
{
    if (!PyTuple_CheckExact(groups))
        return refuse("groups");
    Py_ssize_t n = PyTuple_GET_SIZE(groups);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyTuple_GET_ITEM(groups, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2
            || !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 0)) || !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 1)))
            return refuse("a group");
    }
    if (PUT_LIT(o, "{") < 0)
        return -1;
    if (n == 0)
        goto close;
    /* owner[i]: which distinct key pair i has; first[u]: the pair where key u first appears; many[u]: whether
     * key u is a set group. Distinct keys are few (one "users" for any number of users), so search is linear. */
    /* on the stack for the few groups a failure has (a session with many users: on the heap) */
    Py_ssize_t owner_small[2 * SMALL_GROUPS];
    char many_small[SMALL_GROUPS];
    int small = n <= SMALL_GROUPS;
    Py_ssize_t *owner = small ? owner_small : PyMem_Malloc((size_t)n * 2 * sizeof(Py_ssize_t));
    char *many = small ? many_small : PyMem_Malloc((size_t)n);
    if (owner == NULL || many == NULL) {
        if (!small) {
            PyMem_Free(owner);
            PyMem_Free(many);
        }
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t *first = owner + n;
    Py_ssize_t keys = 0;
    int bad = 0;
    for (Py_ssize_t i = 0; i < n && !bad; i++) {
        PyObject *key = PyTuple_GET_ITEM(PyTuple_GET_ITEM(groups, i), 0);
        Py_ssize_t u = 0;
        while (u < keys && !same_key(key, PyTuple_GET_ITEM(PyTuple_GET_ITEM(groups, first[u]), 0)))
            u++;
        if (u == keys) {
            int member = PySet_Contains(set_groups, key);
            if (member < 0) {
                bad = 1;
                break;
            }
            first[keys] = i;
            many[keys] = (char)member;
            keys++;
        }
        owner[i] = u;
    }
    for (Py_ssize_t u = 0; u < keys && !bad; u++) {
        if (u > 0 && PUT_LIT(o, ", ") < 0) {
            bad = 1;
            break;
        }
        bad = put_string(o, PyTuple_GET_ITEM(PyTuple_GET_ITEM(groups, first[u]), 0)) < 0 || PUT_LIT(o, ": ") < 0;
        if (bad)
            break;
        if (many[u]) {
            bad = PUT_LIT(o, "[") < 0;
            int more = 0;
            for (Py_ssize_t i = first[u]; i < n && !bad; i++) {
                if (owner[i] != u)
                    continue;
                bad = (more && PUT_LIT(o, ", ") < 0) || put_string(o, PyTuple_GET_ITEM(PyTuple_GET_ITEM(groups, i), 1)) < 0;
                more = 1;
            }
            bad = bad || PUT_LIT(o, "]") < 0;
        } else {
            Py_ssize_t last = first[u];
            for (Py_ssize_t i = first[u] + 1; i < n; i++)
                if (owner[i] == u)
                    last = i;
            bad = put_string(o, PyTuple_GET_ITEM(PyTuple_GET_ITEM(groups, last), 1)) < 0;
        }
    }
    if (!small) {
        PyMem_Free(owner);
        PyMem_Free(many);
    }
    if (bad)
        return -1;
close:
    return PUT_LIT(o, "}");
}

static int put_lines(Out *o, PyObject *lines)
{
    if (!PyTuple_CheckExact(lines) && !PyList_CheckExact(lines))
        return refuse("lines");
    if (PUT_LIT(o, "[") < 0)
        return -1;
    /* a list's size is read at every step: nothing here runs Python code, but stay safe if it did */
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(lines); i++) {
        if (i > 0 && PUT_LIT(o, ", ") < 0)
            return -1;
        if (put_text(o, PySequence_Fast_GET_ITEM(lines, i), "a line") < 0)
            return -1;
    }
    return PUT_LIT(o, "]");
}

static int write_failure(Out *o, State *st, PyObject *failure, PyObject *set_groups)
{
    PyObject *lineno = NULL, *fid = NULL, *ip = NULL, *time = NULL, *groups = NULL, *lines = NULL;
    int bad = -1;
    const Slots *c = &st->failure_slots;
    int d = slots_for(&st->failure_slots, failure, st->names, F_COUNT);
    PyObject *const *n = st->names;
    if ((lineno = field(c, d, failure, F_LINENO, n[F_LINENO])) == NULL
        || (fid = field(c, d, failure, F_FID, n[F_FID])) == NULL || (ip = field(c, d, failure, F_IP, n[F_IP])) == NULL
        || (time = field(c, d, failure, F_TIME, n[F_TIME])) == NULL
        || (groups = field(c, d, failure, F_GROUPS, n[F_GROUPS])) == NULL
        || (lines = field(c, d, failure, F_LINES, n[F_LINES])) == NULL)
        goto done;
    if (!PyLong_CheckExact(lineno)) { /* a bool is an int that json writes as true/false */
        refuse("line");
        goto done;
    }
    if (PUT_LIT(o, "{\"line\": ") < 0 || put_number(o, lineno, "line") < 0 || PUT_LIT(o, ", \"id\": ") < 0
        || put_text(o, fid, "id") < 0 || PUT_LIT(o, ", \"ip\": ") < 0
        || (ip == Py_None ? PUT_LIT(o, "null") : put_text(o, ip, "ip")) < 0 || PUT_LIT(o, ", \"time\": ") < 0
        || put_number(o, time, "time") < 0 || PUT_LIT(o, ", \"groups\": ") < 0
        || put_groups(o, groups, set_groups) < 0 || PUT_LIT(o, ", \"matches\": ") < 0 || put_lines(o, lines) < 0
        || PUT_LIT(o, "}") < 0)
        goto done;
    bad = 0;
done:
    Py_XDECREF(lineno);
    Py_XDECREF(fid);
    Py_XDECREF(ip);
    Py_XDECREF(time);
    Py_XDECREF(groups);
    Py_XDECREF(lines);
    return bad;
}

/* Both functions take (something, set_groups); 0 when the call is so, else -1 with TypeError. */
static int check_call(const char *name, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s takes 2 arguments", name);
        return -1;
    }
    if (!PyAnySet_Check(args[1])) {
        PyErr_Format(PyExc_TypeError, "%s: set_groups must be a set or frozenset", name);
        return -1;
    }
    return 0;
}

/* encode(failure, set_groups) -> str */
static PyObject *encode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_call("encode", args, nargs) < 0)
        return NULL;
    State *st = PyModule_GetState(module);
    Out o = {NULL, 0, 0, 0, 0, 0.0, NULL};
    if (out_grow(&o, 512) < 0)
        return NULL;
    PyObject *result = NULL;
    if (write_failure(&o, st, args[0], args[1]) == 0)
        result = out_text(&o);
    out_free(&o);
    return result;
}

/* encode_outcomes(outcomes, set_groups) -> str: the line of every failure of every outcome (a sequence of
 * banjail.filter.outcome.LineOutcome), in order, joined by "\n" ("" when there is none). */
static PyObject *encode_outcomes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_call("encode_outcomes", args, nargs) < 0)
        return NULL;
    State *st = PyModule_GetState(module);
    PyObject *outcomes = PySequence_Fast(args[0], "encode_outcomes: outcomes must be a sequence");
    if (outcomes == NULL)
        return NULL;
    Out o = {NULL, 0, 0, 0, 0, 0.0, NULL};
    PyObject *result = NULL;
    int bad = out_grow(&o, 4096) < 0;
    Py_ssize_t lines = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(outcomes) && !bad; i++) {
        PyObject *outcome = PySequence_Fast_GET_ITEM(outcomes, i);
        int d = slots_for(&st->outcome_slots, outcome, &st->failures, 1);
        PyObject *failures = field(&st->outcome_slots, d, outcome, 0, st->failures);
        if (failures == NULL || !PyTuple_CheckExact(failures)) {
            if (failures != NULL)
                refuse("an outcome's failures");
            Py_XDECREF(failures);
            bad = 1;
            break;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(failures) && !bad; j++)
            bad = (lines++ > 0 && PUT_LIT(&o, "\n") < 0)
                || write_failure(&o, st, PyTuple_GET_ITEM(failures, j), args[1]) < 0;
        Py_DECREF(failures);
    }
    if (!bad)
        result = out_text(&o);
    out_free(&o);
    Py_DECREF(outcomes);
    return result;
}

static PyMethodDef methods[] = {
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL,
     "encode(failure, set_groups) -> str: banjail.cli.failures.json_line's line, or TypeError."},
    {"encode_outcomes", (PyCFunction)(void (*)(void))encode_outcomes, METH_FASTCALL,
     "encode_outcomes(outcomes, set_groups) -> str: the lines of the outcomes' failures joined by newlines."},
    {NULL, NULL, 0, NULL},
};

static int state_traverse(PyObject *module, visitproc visit, void *arg)
{
    State *st = PyModule_GetState(module);
    for (int k = 0; k < F_COUNT; k++)
        Py_VISIT(st->names[k]);
    Py_VISIT(st->failures);
    Py_VISIT(st->failure_slots.type);
    Py_VISIT(st->outcome_slots.type);
    return 0;
}

static int state_clear(PyObject *module)
{
    State *st = PyModule_GetState(module);
    for (int k = 0; k < F_COUNT; k++)
        Py_CLEAR(st->names[k]);
    Py_CLEAR(st->failures);
    Py_CLEAR(st->failure_slots.type);
    Py_CLEAR(st->outcome_slots.type);
    return 0;
}

static void state_free(void *module) { state_clear((PyObject *)module); }

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "banjail.cli._jsonline",
    "fail2ban-regex --json's failure lines in C (banjail.cli.failures.json_line is the reference).",
    sizeof(State),
    methods,
    NULL,
    state_traverse,
    state_clear,
    state_free,
};

PyMODINIT_FUNC PyInit__jsonline(void)
{
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    State *st = PyModule_GetState(module);
    static const char *const names[F_COUNT] = {"lineno", "fid", "ip", "time", "groups", "lines"};
    int bad = (st->failures = PyUnicode_InternFromString("failures")) == NULL;
    for (int k = 0; k < F_COUNT && !bad; k++)
        bad = (st->names[k] = PyUnicode_InternFromString(names[k])) == NULL;
    if (bad) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
