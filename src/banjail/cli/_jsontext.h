/* The text fail2ban-regex --json's line is written into (Out) and what writes into it, shared by _jsonline.c
 * (the failure's fields) and _jsontext.c (the buffer and the JSON string escaping). */
#ifndef BANJAIL_JSONTEXT_H
#define BANJAIL_JSONTEXT_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The text being written: Latin-1 bytes while every string so far fits in one byte (nearly always), else UCS-4
 * (widened once, when the first wider string comes). Made into one str of the narrowest kind at the end. */
typedef struct {
    void *buf;
    Py_ssize_t len, cap;
    int wide;     /* buf holds Py_UCS4, else Py_UCS1 */
    int nonascii; /* a character above U+007F was written into the Py_UCS1 buffer */
    /* the last float written and its repr: failures of one second share their time, and repr is dear */
    double float_value;
    PyObject *float_text;
} Out;

/* defined in _jsontext.c, which says what each does */
void out_free(Out *o);
int out_grow(Out *o, Py_ssize_t more);
int put_bytes_grown(Out *o, const char *s, Py_ssize_t n);
int put_ascii(Out *o, const char *s);
int put_raw(Out *o, PyObject *s);
int put_string(Out *o, PyObject *s);
PyObject *out_text(Out *o);

/* `n` ASCII bytes at `s` written as they are. Inline for the common case, a Latin-1 buffer with room (a line
 * writes about 25 short literals: a call, strlen and out_grow each were a fifth of the writer's instructions). */
static inline int put_bytes(Out *o, const char *s, Py_ssize_t n)
{
    if (!o->wide && n <= o->cap - o->len) {
        memcpy((Py_UCS1 *)o->buf + o->len, s, (size_t)n);
        o->len += n;
        return 0;
    }
    return put_bytes_grown(o, s, n);
}

/* a string literal's bytes, its length known when compiling */
#define PUT_LIT(o, lit) put_bytes((o), "" lit, (Py_ssize_t)sizeof(lit) - 1)
#endif
