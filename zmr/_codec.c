/* zmr._speedups, the key codec: zmr/storage/codec.py's memcomparable encoding in C.
 *
 * Compiled into the same extension as _speedups.c (which adds these functions to the
 * module); codec.py binds them when the extension is built and ZMR_PURE_PYTHON is unset,
 * and keeps its Python functions as the reference the tests compare these with, byte for
 * byte. Profiles of secondary sort, joins and PageRank showed the Python encoder and
 * decoder (a few calls per tuple element) as the reduce side's largest cost.
 *
 * The common types (exactly None, bool, int64, float, str, bytes, tuple, list) are coded
 * here; anything unusual (ints beyond int64, subclasses, numpy scalars, pickled objects)
 * goes back to the Python functions registered by codec_setup, so there is one statement
 * of those rules.
 *
 * encode_key(obj) -> bytes;  decode_key(bytes) -> obj
 * element_end(bytes, pos) -> int;  first_element(bytes) -> obj
 * encode_many(list) -> (offsets, data): an Arrow binary array's int32 offsets and data
 * decode_many(offsets, data, start, n) -> list: rows start..start+n of such buffers
 * prefix_run_starts(offsets, data, start, n, skip, group_by) -> int64 row indices (bytes)
 *     where the group prefix (ordering.py's KeyOrder.group_prefix) changes.
 * group_prefixes(offsets, data, start, n, skip, group_by) -> (offsets, data) of the
 *     rows' group prefixes.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define T_NONE 0x01
#define T_FALSE 0x02
#define T_TRUE 0x03
#define T_NEG_BIG 0x10
#define T_INT64 0x14
#define T_POS_BIG 0x18
#define T_FLOAT 0x20
#define T_STR 0x30
#define T_BYTES 0x40
#define T_TUPLE 0x50
#define T_LIST 0x51
#define T_PICKLE 0x7F
#define SIGN_BIT 0x8000000000000000ULL
/* struct.pack(">d", float("nan")): every NaN is stored as this one, so NaNs group. */
#define CANONICAL_NAN 0x7FF8000000000000ULL

static PyObject *encode_slow;   /* codec._encode_slow(obj) -> bytes */
static PyObject *decode_slow;   /* codec._decode_at(data, pos) -> (obj, end) */

/* ------------------------------------------------------------------ encoding */

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
} Buf;

static int
buf_reserve(Buf *b, Py_ssize_t extra)
{
    Py_ssize_t cap = b->cap ? b->cap : 256;
    unsigned char *grown;

    if (b->len + extra <= b->cap)
        return 0;
    while (cap < b->len + extra)
        cap *= 2;
    grown = PyMem_Realloc(b->data, cap);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

static int
buf_byte(Buf *b, unsigned char c)
{
    if (buf_reserve(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

static int
put_u64(Buf *b, unsigned char tag, uint64_t v)
{
    int i;

    if (buf_reserve(b, 9) < 0)
        return -1;
    b->data[b->len++] = tag;
    for (i = 7; i >= 0; i--)
        b->data[b->len++] = (unsigned char)(v >> (8 * i));
    return 0;
}

/* tag, the bytes with each 0x00 as 0x00 0xFF, then 0x00 */
static int
put_escaped(Buf *b, unsigned char tag, const char *s, Py_ssize_t n)
{
    const char *end = s + n, *zero;

    if (buf_reserve(b, n + 2) < 0)
        return -1;
    b->data[b->len++] = tag;
    while ((zero = memchr(s, 0, end - s)) != NULL) {
        if (buf_reserve(b, (zero - s) + 2 + (end - zero) + 1) < 0)
            return -1;
        memcpy(b->data + b->len, s, zero - s + 1);
        b->len += zero - s + 1;
        b->data[b->len++] = 0xFF;
        s = zero + 1;
    }
    memcpy(b->data + b->len, s, end - s);
    b->len += end - s;
    b->data[b->len++] = 0;
    return 0;
}

static int encode_into(Buf *b, PyObject *k);

static int
encode_slowly(Buf *b, PyObject *k)
{
    PyObject *raw;
    int rc = -1;

    if (encode_slow == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "zmr._speedups.codec_setup was not called");
        return -1;
    }
    raw = PyObject_CallOneArg(encode_slow, k);
    if (raw == NULL)
        return -1;
    if (!PyBytes_Check(raw))
        PyErr_SetString(PyExc_TypeError, "the key encoder's fallback must return bytes");
    else if (buf_reserve(b, PyBytes_GET_SIZE(raw)) == 0) {
        memcpy(b->data + b->len, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw));
        b->len += PyBytes_GET_SIZE(raw);
        rc = 0;
    }
    Py_DECREF(raw);
    return rc;
}

static int
encode_str(Buf *b, PyObject *k)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(k, &n);
    PyObject *raw;
    int rc;

    if (s != NULL)
        return put_escaped(b, T_STR, s, n);
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        return -1;
    PyErr_Clear();              /* a lone surrogate: kept as Python's surrogatepass does */
    raw = PyUnicode_AsEncodedString(k, "utf-8", "surrogatepass");
    if (raw == NULL)
        return -1;
    rc = put_escaped(b, T_STR, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw));
    Py_DECREF(raw);
    return rc;
}

/* A tuple or list: a list may change under a fallback's Python code, so sizes are read
 * again and items held while they are encoded. */
static int
encode_sequence(Buf *b, PyObject *seq, int is_tuple)
{
    Py_ssize_t i;
    int rc = 0;

    if (buf_byte(b, is_tuple ? T_TUPLE : T_LIST) < 0)
        return -1;
    if (Py_EnterRecursiveCall(" while encoding a key"))
        return -1;
    for (i = 0; rc == 0 && i < Py_SIZE(seq); i++) {
        PyObject *item = is_tuple ? PyTuple_GET_ITEM(seq, i) : PyList_GET_ITEM(seq, i);

        Py_INCREF(item);
        rc = encode_into(b, item);
        Py_DECREF(item);
    }
    Py_LeaveRecursiveCall();
    return rc < 0 ? -1 : buf_byte(b, 0);
}

static int
encode_into(Buf *b, PyObject *k)
{
    PyTypeObject *t = Py_TYPE(k);

    if (t == &PyUnicode_Type)
        return encode_str(b, k);
    if (t == &PyLong_Type) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(k, &overflow);

        if (overflow)
            return encode_slowly(b, k);
        if (v == -1 && PyErr_Occurred())
            return -1;
        return put_u64(b, T_INT64, (uint64_t)v ^ SIGN_BIT);
    }
    if (k == Py_None)
        return buf_byte(b, T_NONE);
    if (t == &PyBool_Type)
        return buf_byte(b, k == Py_True ? T_TRUE : T_FALSE);
    if (t == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(k);
        uint64_t bits = CANONICAL_NAN;

        if (d == d) {
            if (d == 0.0)
                d = 0.0;        /* -0.0 == 0.0 in Python, so they must be one key */
            memcpy(&bits, &d, 8);
        }
        return put_u64(b, T_FLOAT, (bits & SIGN_BIT) ? ~bits : (bits | SIGN_BIT));
    }
    if (t == &PyBytes_Type)
        return put_escaped(b, T_BYTES, PyBytes_AS_STRING(k), PyBytes_GET_SIZE(k));
    if (t == &PyTuple_Type || t == &PyList_Type)
        return encode_sequence(b, k, t == &PyTuple_Type);
    return encode_slowly(b, k);
}

static PyObject *
codec_encode_key(PyObject *self, PyObject *k)
{
    Buf b = {NULL, 0, 0};
    PyObject *out = NULL;

    if (encode_into(&b, k) == 0)
        out = PyBytes_FromStringAndSize((const char *)b.data, b.len);
    PyMem_Free(b.data);
    return out;
}

static PyObject *
codec_encode_many(PyObject *self, PyObject *keys)
{
    PyObject *seq = PySequence_Fast(keys, "encode_many needs a sequence"), *out = NULL;
    Buf b = {NULL, 0, 0}, offsets = {NULL, 0, 0};
    Py_ssize_t i, n;
    int32_t at = 0;

    if (seq == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    if (buf_reserve(&offsets, (n + 1) * 4) < 0)
        goto done;
    memcpy(offsets.data, &at, 4);
    offsets.len = 4;
    for (i = 0; i < n; i++) {
        PyObject *item;
        int rc;

        if (PySequence_Fast_GET_SIZE(seq) != n) {   /* a fallback's Python code changed it */
            PyErr_SetString(PyExc_RuntimeError, "the list of keys changed while encoded");
            goto done;
        }
        item = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        rc = encode_into(&b, item);
        Py_DECREF(item);
        if (rc < 0)
            goto done;
        if (b.len > INT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "encoded keys beyond 2 GiB in one array");
            goto done;
        }
        at = (int32_t)b.len;
        memcpy(offsets.data + offsets.len, &at, 4);
        offsets.len += 4;
    }
    out = Py_BuildValue("(y#y#)", (const char *)offsets.data, offsets.len,
                        b.data ? (const char *)b.data : "", b.len);
done:
    PyMem_Free(b.data);
    PyMem_Free(offsets.data);
    Py_DECREF(seq);
    return out;
}

/* ------------------------------------------------------------------ decoding */

typedef struct {
    const unsigned char *data;
    Py_ssize_t len;
    PyObject *owner;            /* a bytes object of data (made when a fallback needs it) */
} Src;

static int
truncated(Py_ssize_t pos)
{
    PyErr_SetString(PyExc_ValueError, "truncated encoded key");
    return -1;
}

/* Where the escaped bytes from pos end (just past their 0x00), and whether they hold an
 * escaped 0x00; -1 with an error if unterminated. */
static Py_ssize_t
escaped_end(const Src *s, Py_ssize_t pos, int *escapes)
{
    const unsigned char *zero;

    *escapes = 0;
    for (;;) {
        zero = pos < s->len ? memchr(s->data + pos, 0, s->len - pos) : NULL;
        if (zero == NULL)
            return truncated(pos);
        pos = zero - s->data;
        if (pos + 1 < s->len && s->data[pos + 1] == 0xFF) {
            *escapes = 1;
            pos += 2;
        }
        else
            return pos + 1;
    }
}

/* The unescaped bytes between pos and end (end just past the terminator) as str/bytes. */
static PyObject *
unescaped(const Src *s, Py_ssize_t pos, Py_ssize_t end, int escapes, int as_str)
{
    const char *from = (const char *)s->data + pos;
    Py_ssize_t n = end - 1 - pos, i, j;
    char *copy;
    PyObject *out;

    if (!escapes)
        return as_str ? PyUnicode_DecodeUTF8(from, n, "surrogatepass")
                      : PyBytes_FromStringAndSize(from, n);
    copy = PyMem_Malloc(n ? n : 1);
    if (copy == NULL)
        return PyErr_NoMemory();
    for (i = j = 0; i < n; i++) {
        copy[j++] = from[i];
        if (from[i] == 0)
            i++;                /* skip the 0xFF of an escaped 0x00 */
    }
    out = as_str ? PyUnicode_DecodeUTF8(copy, j, "surrogatepass")
                 : PyBytes_FromStringAndSize(copy, j);
    PyMem_Free(copy);
    return out;
}

static uint64_t
read_u64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Python's _decode_at for big ints and pickles, on a bytes object of the whole source. */
static PyObject *
decode_slowly(Src *s, Py_ssize_t *pos)
{
    PyObject *pair, *value;
    Py_ssize_t end;

    if (decode_slow == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "zmr._speedups.codec_setup was not called");
        return NULL;
    }
    if (s->owner == NULL) {
        s->owner = PyBytes_FromStringAndSize((const char *)s->data, s->len);
        if (s->owner == NULL)
            return NULL;
    }
    pair = PyObject_CallFunction(decode_slow, "On", s->owner, *pos);
    if (pair == NULL) {
        if (PyErr_ExceptionMatches(PyExc_IndexError)) {
            PyErr_Clear();      /* a big int's length byte missing */
            truncated(*pos);
        }
        return NULL;
    }
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        Py_DECREF(pair);
        PyErr_SetString(PyExc_TypeError, "the key decoder's fallback must return a pair");
        return NULL;
    }
    end = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
    if (end == -1 && PyErr_Occurred()) {
        Py_DECREF(pair);
        return NULL;
    }
    if (end > s->len) {
        Py_DECREF(pair);
        truncated(*pos);
        return NULL;
    }
    value = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
    Py_DECREF(pair);
    *pos = end;
    return value;
}

static PyObject *decode_at(Src *s, Py_ssize_t *pos);

static PyObject *
decode_sequence(Src *s, Py_ssize_t *pos, int is_tuple)
{
    PyObject *items = PyList_New(0), *item, *out;

    if (items == NULL)
        return NULL;
    if (Py_EnterRecursiveCall(" while decoding a key")) {
        Py_DECREF(items);
        return NULL;
    }
    for (;;) {
        if (*pos >= s->len) {
            truncated(*pos);
            goto fail;
        }
        if (s->data[*pos] == 0)
            break;
        item = decode_at(s, pos);
        if (item == NULL || PyList_Append(items, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    Py_LeaveRecursiveCall();
    *pos += 1;
    if (!is_tuple)
        return items;
    out = PyList_AsTuple(items);
    Py_DECREF(items);
    return out;
fail:
    Py_LeaveRecursiveCall();
    Py_DECREF(items);
    return NULL;
}

static PyObject *
decode_at(Src *s, Py_ssize_t *pos)
{
    unsigned char tag;
    Py_ssize_t at = *pos, end;
    int escapes;

    if (at >= s->len) {
        truncated(at);
        return NULL;
    }
    tag = s->data[at++];
    switch (tag) {
    case T_STR:
    case T_BYTES:
        end = escaped_end(s, at, &escapes);
        if (end < 0)
            return NULL;
        *pos = end;
        return unescaped(s, at, end, escapes, tag == T_STR);
    case T_INT64:
    case T_FLOAT:
        if (at + 8 > s->len) {
            truncated(at);
            return NULL;
        }
        *pos = at + 8;
        if (tag == T_INT64)
            return PyLong_FromLongLong((long long)(read_u64(s->data + at) ^ SIGN_BIT));
        {
            uint64_t bits = read_u64(s->data + at);
            double d;

            bits = (bits & SIGN_BIT) ? (bits ^ SIGN_BIT) : ~bits;
            memcpy(&d, &bits, 8);
            return PyFloat_FromDouble(d);
        }
    case T_NONE:
        *pos = at;
        Py_RETURN_NONE;
    case T_FALSE:
    case T_TRUE:
        *pos = at;
        return Py_NewRef(tag == T_TRUE ? Py_True : Py_False);
    case T_TUPLE:
    case T_LIST:
        *pos = at;
        return decode_sequence(s, pos, tag == T_TUPLE);
    case T_POS_BIG:
    case T_NEG_BIG:
    case T_PICKLE:
        return decode_slowly(s, pos);
    }
    PyErr_Format(PyExc_ValueError, "unknown key tag 0x%02x", tag);
    return NULL;
}

/* One whole encoded key: codec.decode_key. */
static PyObject *
decode_whole(Src *s)
{
    Py_ssize_t pos = 0;
    PyObject *value = decode_at(s, &pos);

    if (value != NULL && pos != s->len) {
        Py_DECREF(value);
        PyErr_Format(PyExc_ValueError, "trailing bytes after encoded key at %zd", pos);
        return NULL;
    }
    return value;
}

/* Where the encoded key at pos ends, without building it. */
static Py_ssize_t
skip_at(const Src *s, Py_ssize_t pos)
{
    unsigned char tag;
    int escapes;

    if (pos >= s->len)
        return truncated(pos);
    tag = s->data[pos++];
    switch (tag) {
    case T_STR:
    case T_BYTES:
    case T_PICKLE:
        return escaped_end(s, pos, &escapes);
    case T_INT64:
    case T_FLOAT:
        return pos + 8 <= s->len ? pos + 8 : truncated(pos);
    case T_NONE:
    case T_FALSE:
    case T_TRUE:
        return pos;
    case T_POS_BIG:
    case T_NEG_BIG:
        if (pos >= s->len)
            return truncated(pos);
        pos += 1 + (tag == T_POS_BIG ? s->data[pos] : 255 - s->data[pos]);
        return pos <= s->len ? pos : truncated(pos);
    case T_TUPLE:
    case T_LIST:
        while (pos < s->len && s->data[pos] != 0)
            if ((pos = skip_at(s, pos)) < 0)
                return -1;
        return pos < s->len ? pos + 1 : truncated(pos);
    }
    PyErr_Format(PyExc_ValueError, "unknown key tag 0x%02x", tag);
    return -1;
}

static PyObject *
codec_decode_key(PyObject *self, PyObject *data)
{
    Src s;
    PyObject *value;

    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "decode_key needs bytes");
        return NULL;
    }
    s.data = (const unsigned char *)PyBytes_AS_STRING(data);
    s.len = PyBytes_GET_SIZE(data);
    s.owner = Py_NewRef(data);
    value = decode_whole(&s);
    Py_DECREF(s.owner);
    return value;
}

static PyObject *
codec_element_end(PyObject *self, PyObject *args)
{
    Src s = {NULL, 0, NULL};
    Py_ssize_t pos, end;

    if (!PyArg_ParseTuple(args, "y#n", &s.data, &s.len, &pos))
        return NULL;
    end = pos < 0 ? truncated(pos) : skip_at(&s, pos);
    return end < 0 ? NULL : PyLong_FromSsize_t(end);
}

static PyObject *
codec_first_element(PyObject *self, PyObject *data)
{
    Src s;
    Py_ssize_t pos = 1;
    PyObject *value;

    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "first_element needs bytes");
        return NULL;
    }
    s.data = (const unsigned char *)PyBytes_AS_STRING(data);
    s.len = PyBytes_GET_SIZE(data);
    s.owner = Py_NewRef(data);
    value = decode_at(&s, &pos);
    Py_DECREF(s.owner);
    return value;
}

/* ------------------------------------------------------------------ Arrow buffers */

typedef struct {
    Py_buffer offsets, data;
    const int32_t *at;          /* offsets of the rows asked for */
    Py_ssize_t n;
} Rows;

/* Reads (offsets, data, start, n) and checks the rows lie inside the buffers. */
static int
rows_open(Rows *r, PyObject *args, const char *format, void *extra1, void *extra2)
{
    Py_ssize_t start, i;

    if (!PyArg_ParseTuple(args, format, &r->offsets, &r->data, &start, &r->n, extra1,
                          extra2))
        return -1;
    if (start < 0 || r->n < 0
        || (size_t)(start + r->n + 1) * 4 > (size_t)r->offsets.len)
        goto bad;
    r->at = (const int32_t *)r->offsets.buf + start;
    for (i = 0; i < r->n; i++)
        if (r->at[i] < 0 || r->at[i] > r->at[i + 1] || r->at[i + 1] > r->data.len)
            goto bad;
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "Arrow offsets out of the buffers' bounds");
    PyBuffer_Release(&r->offsets);
    PyBuffer_Release(&r->data);
    return -1;
}

static void
rows_close(Rows *r)
{
    PyBuffer_Release(&r->offsets);
    PyBuffer_Release(&r->data);
}

static void
row_source(const Rows *r, Py_ssize_t i, Src *s)
{
    s->data = (const unsigned char *)r->data.buf + r->at[i];
    s->len = r->at[i + 1] - r->at[i];
    s->owner = NULL;
}

static PyObject *
codec_decode_many(PyObject *self, PyObject *args)
{
    Rows r;
    PyObject *out, *value;
    Py_ssize_t i;
    Src s;

    if (rows_open(&r, args, "y*y*nn", NULL, NULL) < 0)
        return NULL;
    out = PyList_New(r.n);
    for (i = 0; out != NULL && i < r.n; i++) {
        row_source(&r, i, &s);
        value = decode_whole(&s);
        Py_XDECREF(s.owner);
        if (value == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, value);
    }
    rows_close(&r);
    return out;
}

/* KeyOrder.group_prefix of one row: under ``skip`` the key inside a (key, value) tuple,
 * then its first ``group_by`` elements (all of it when 0). Returns its end; *begin is set. */
static Py_ssize_t
group_prefix(const Src *s, int skip, int group_by, Py_ssize_t *begin)
{
    Py_ssize_t end = s->len, pos;
    Src inner = *s;
    int i;

    *begin = 0;
    if (skip) {
        end = skip_at(s, 1);
        if (end < 0)
            return -1;
        *begin = 1;
        inner.data = s->data + 1;
        inner.len = end - 1;
    }
    if (group_by <= 0)
        return end;
    for (pos = 1, i = 0; i < group_by; i++)
        if ((pos = skip_at(&inner, pos)) < 0)
            return -1;
    return *begin + pos;
}

static PyObject *
codec_prefix_run_starts(PyObject *self, PyObject *args)
{
    Rows r;
    int skip, group_by;
    Buf starts = {NULL, 0, 0};
    const unsigned char *last = NULL;
    Py_ssize_t last_len = 0, i, begin, end;
    int64_t row;
    PyObject *out = NULL;
    Src s;

    if (rows_open(&r, args, "y*y*nnpi", &skip, &group_by) < 0)
        return NULL;
    for (i = 0; i < r.n; i++) {
        row_source(&r, i, &s);
        end = group_prefix(&s, skip, group_by, &begin);
        if (end < 0)
            goto done;
        if (last == NULL || end - begin != last_len
            || memcmp(last, s.data + begin, last_len) != 0) {
            row = i;
            if (buf_reserve(&starts, 8) < 0)
                goto done;
            memcpy(starts.data + starts.len, &row, 8);
            starts.len += 8;
        }
        last = s.data + begin;
        last_len = end - begin;
    }
    out = PyBytes_FromStringAndSize(starts.data ? (const char *)starts.data : "",
                                    starts.len);
done:
    PyMem_Free(starts.data);
    rows_close(&r);
    return out;
}

/* The group prefix of every row, as (int32 offsets, data) of a new binary array: the map
 * side hashes or range-partitions on these. */
static PyObject *
codec_group_prefixes(PyObject *self, PyObject *args)
{
    Rows r;
    int skip, group_by;
    Buf offsets = {NULL, 0, 0}, prefixes = {NULL, 0, 0};
    Py_ssize_t i, begin, end;
    int32_t at = 0;
    PyObject *out = NULL;
    Src s;

    if (rows_open(&r, args, "y*y*nnpi", &skip, &group_by) < 0)
        return NULL;
    if (buf_reserve(&offsets, (r.n + 1) * 4) < 0)
        goto done;
    memcpy(offsets.data, &at, 4);
    offsets.len = 4;
    for (i = 0; i < r.n; i++) {
        row_source(&r, i, &s);
        end = group_prefix(&s, skip, group_by, &begin);
        if (end < 0 || buf_reserve(&prefixes, end - begin) < 0)
            goto done;
        memcpy(prefixes.data + prefixes.len, s.data + begin, end - begin);
        prefixes.len += end - begin;
        at = (int32_t)prefixes.len;     /* no longer than the rows' own int32 offsets */
        memcpy(offsets.data + offsets.len, &at, 4);
        offsets.len += 4;
    }
    out = Py_BuildValue("(y#y#)", (const char *)offsets.data, offsets.len,
                        prefixes.data ? (const char *)prefixes.data : "", prefixes.len);
done:
    PyMem_Free(offsets.data);
    PyMem_Free(prefixes.data);
    rows_close(&r);
    return out;
}

static PyObject *
codec_setup(PyObject *self, PyObject *args)
{
    PyObject *encode, *decode;

    if (!PyArg_ParseTuple(args, "OO", &encode, &decode))
        return NULL;
    Py_XSETREF(encode_slow, Py_NewRef(encode));
    Py_XSETREF(decode_slow, Py_NewRef(decode));
    Py_RETURN_NONE;
}

PyMethodDef codec_methods[] = {
    {"codec_setup", codec_setup, METH_VARARGS,
     "codec_setup(encode_slow, decode_at): the Python fallbacks of the codec."},
    {"encode_key", codec_encode_key, METH_O, "One key -> its memcomparable bytes."},
    {"decode_key", codec_decode_key, METH_O, "Inverse of encode_key."},
    {"element_end", codec_element_end, METH_VARARGS,
     "Where the encoded key starting at pos ends."},
    {"first_element", codec_first_element, METH_O,
     "The first element of an encoded tuple or list."},
    {"encode_many", codec_encode_many, METH_O,
     "Keys -> (int32 offsets, data) of an Arrow binary array of their encodings."},
    {"decode_many", codec_decode_many, METH_VARARGS,
     "decode_many(offsets, data, start, n): rows of an Arrow binary array, decoded."},
    {"prefix_run_starts", codec_prefix_run_starts, METH_VARARGS,
     "prefix_run_starts(offsets, data, start, n, skip, group_by): int64 rows where the "
     "group prefix changes."},
    {"group_prefixes", codec_group_prefixes, METH_VARARGS,
     "group_prefixes(offsets, data, start, n, skip, group_by): (int32 offsets, data) of "
     "each row's group prefix."},
    {NULL, NULL, 0, NULL},
};
