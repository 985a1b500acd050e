/* The text of fail2ban-regex --json's line while banjail.cli._jsonline writes it: a buffer of Latin-1 bytes
 * widened to UCS-4 once a wider string comes, the numbers' reprs and strings copied into it with json's escaping
 * (ensure_ascii=False), and the one str made of it at the end.
 *
 * In its own file because the buffer and the escaping are one concept apart from which fields a failure's line
 * has (_jsonline.c). Moved from _jsonline.c unchanged. No global state; every write grows the buffer first.
 */
#include "_jsontext.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void out_free(Out *o)
{
    PyMem_Free(o->buf);
    Py_CLEAR(o->float_text);
}

int out_grow(Out *o, Py_ssize_t more)
{
    if (more > PY_SSIZE_T_MAX / (Py_ssize_t)(2 * sizeof(Py_UCS4)) - o->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = o->len + more;
    if (need <= o->cap)
        return 0;
    Py_ssize_t cap = o->cap * 2 > need ? o->cap * 2 : need;
    void *buf = PyMem_Realloc(o->buf, (size_t)cap * (o->wide ? sizeof(Py_UCS4) : 1));
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->buf = buf;
    o->cap = cap;
    return 0;
}

static int widen(Out *o)
{
    Py_ssize_t cap = o->cap > 0 ? o->cap : 1;
    Py_UCS4 *buf = PyMem_Malloc((size_t)cap * sizeof(Py_UCS4));
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    const Py_UCS1 *old = o->buf;
    for (Py_ssize_t i = 0; i < o->len; i++)
        buf[i] = old[i];
    PyMem_Free(o->buf);
    o->buf = buf;
    o->cap = cap;
    o->wide = 1;
    return 0;
}

/* put_bytes when the buffer must grow first or is UCS-4 */
int put_bytes_grown(Out *o, const char *s, Py_ssize_t n)
{
    if (out_grow(o, n) < 0)
        return -1;
    if (o->wide) {
        Py_UCS4 *w = (Py_UCS4 *)o->buf + o->len;
        for (Py_ssize_t i = 0; i < n; i++)
            w[i] = (unsigned char)s[i];
    } else {
        memcpy((Py_UCS1 *)o->buf + o->len, s, (size_t)n);
    }
    o->len += n;
    return 0;
}

int put_ascii(Out *o, const char *s) { return put_bytes(o, s, (Py_ssize_t)strlen(s)); }

/* Copies `s` (an ASCII str: the repr of a number) as it is. */
int put_raw(Out *o, PyObject *s)
{
    if (!PyUnicode_IS_ASCII(s)) {
        PyErr_SetString(PyExc_TypeError, "_jsonline: a number's repr is not ASCII");
        return -1;
    }
    return put_bytes(o, (const char *)PyUnicode_1BYTE_DATA(s), PyUnicode_GET_LENGTH(s));
}

static const char HEX[] = "0123456789abcdef";

/* One character of a JSON string as json's encoder writes it without ensure_ascii: '"', '\\' and the controls
 * below U+0020 escaped (\b \f \n \r \t, else \u00XX in lower-case hex), everything else as it is. */
#define ESCAPE_INTO(w, c)                                                                                       \
    do {                                                                                                        \
        if ((c) >= 0x20 && (c) != '"' && (c) != '\\') {                                                         \
            *(w)++ = (c);                                                                                       \
            break;                                                                                              \
        }                                                                                                       \
        *(w)++ = '\\';                                                                                          \
        switch (c) {                                                                                            \
        case '"': *(w)++ = '"'; break;                                                                          \
        case '\\': *(w)++ = '\\'; break;                                                                        \
        case '\b': *(w)++ = 'b'; break;                                                                         \
        case '\f': *(w)++ = 'f'; break;                                                                         \
        case '\n': *(w)++ = 'n'; break;                                                                         \
        case '\r': *(w)++ = 'r'; break;                                                                         \
        case '\t': *(w)++ = 't'; break;                                                                         \
        default:                                                                                                \
            *(w)++ = 'u';                                                                                       \
            *(w)++ = '0';                                                                                       \
            *(w)++ = '0';                                                                                       \
            *(w)++ = HEX[((c) >> 4) & 0xf];                                                                     \
            *(w)++ = HEX[(c) & 0xf];                                                                            \
        }                                                                                                       \
    } while (0)

/* Whether one of the 8 bytes of `x` is one ESCAPE_INTO escapes (below 0x20, '"' or '\\'). Each test is the
 * word-at-a-time "has a byte below n" ((x - n * 0x01..) & ~x & 0x80..): exact as a test of the whole word (a
 * borrow can mark a wrong byte only after a byte that is marked rightly), whatever the byte order; bytes from
 * 0x80 up are never marked (their ~x has the high bit clear). */
static inline int word_escapes(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"'), slash = x ^ (ones * '\\');
    uint64_t below = (x - ones * 0x20) & ~x, quoted = (quote - ones) & ~quote, slashed = (slash - ones) & ~slash;
    return ((below | quoted | slashed) & highs) != 0;
}

/* `s` (an exact str) as a quoted JSON string. */
int put_string(Out *o, PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    if (kind != PyUnicode_1BYTE_KIND && !o->wide && widen(o) < 0)
        return -1;
    if (n > (PY_SSIZE_T_MAX - 2) / 6) {
        PyErr_NoMemory();
        return -1;
    }
    /* at most 6 characters (\u00XX) per character; the room checked here first (most strings are short) */
    if (6 * n + 2 > o->cap - o->len && out_grow(o, 6 * n + 2) < 0)
        return -1;
    if (!o->wide) { /* then s is Latin-1 too */
        const Py_UCS1 *data = PyUnicode_1BYTE_DATA(s);
        Py_UCS1 *w = (Py_UCS1 *)o->buf + o->len;
        if (!PyUnicode_IS_ASCII(s))
            o->nonascii = 1;
        *w++ = '"';
        for (Py_ssize_t i = 0; i < n;) {
#ifdef __SSE2__
            /* sixteen characters at a time: copied, then the part before the first one to escape kept (room: the
             * buffer has 6 * n + 2 from the opening quote on and at most 6 * i of it is used, so 16 more fit) */
            if (i + 16 <= n) {
                __m128i v = _mm_loadu_si128((const __m128i *)(data + i));
                __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v); /* bytes up to 0x1f */
                __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
                __m128i slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
                unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(quote, slash)));
                _mm_storeu_si128((__m128i *)w, v);
                if (mask == 0) {
                    w += 16;
                    i += 16;
                    continue;
                }
                int clean = __builtin_ctz(mask); /* written as they are, as ESCAPE_INTO writes each */
                w += clean;
                i += clean;
                Py_UCS1 c = data[i++];
                ESCAPE_INTO(w, c);
                continue;
            }
#endif
            uint64_t word;
            if (i + 8 <= n && (memcpy(&word, data + i, 8), !word_escapes(word))) {
                memcpy(w, data + i, 8); /* eight characters written as they are, as ESCAPE_INTO writes each */
                w += 8;
                i += 8;
                continue;
            }
            Py_UCS1 c = data[i++];
            ESCAPE_INTO(w, c);
        }
        *w++ = '"';
        o->len = w - (Py_UCS1 *)o->buf;
        return 0;
    }
    Py_UCS4 *w = (Py_UCS4 *)o->buf + o->len;
    *w++ = '"';
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *data = PyUnicode_1BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = data[i];
            ESCAPE_INTO(w, c);
        }
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *data = PyUnicode_2BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = data[i];
            ESCAPE_INTO(w, c);
        }
    } else {
        const Py_UCS4 *data = PyUnicode_4BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = data[i];
            ESCAPE_INTO(w, c);
        }
    }
    *w++ = '"';
    o->len = w - (Py_UCS4 *)o->buf;
    return 0;
}

/* The str of everything written (the Latin-1 buffer as ASCII when no character above U+007F went in, which is
 * the canonical kind CPython's str comparisons rely on). */
PyObject *out_text(Out *o)
{
    if (o->wide)
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, o->buf, o->len);
    PyObject *text = PyUnicode_New(o->len, o->nonascii ? 255 : 127);
    if (text != NULL && o->len > 0)
        memcpy(PyUnicode_DATA(text), o->buf, (size_t)o->len);
    return text;
}
