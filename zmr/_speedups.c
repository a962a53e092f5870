/* zmr._speedups: the map side's per-record loops in C.
 *
 * Optional: zmr/tasks/accel.py imports it when it was built (pip install compiles it with
 * the machine's C compiler) and uses the pure-Python loops of the same semantics otherwise
 * (or when ZMR_PURE_PYTHON=1). Profiles of a word count showed the interpreter spending
 * more time on the engine's loop around the mapper (unpack a pair, look its key up, append
 * its value) than in the mapper itself; here each pair costs a dict lookup and an append.
 *
 * group_records(groups, mapper, path, records) -> (pairs, slots, unfit)
 *     For each (offset, line) of the iterator ``records``: out = mapper((path, offset),
 *     line); append each value of its (key, value) pairs to groups[key] (a ValueRuns, see
 *     below), where a new key must be exactly a str. ``pairs`` is how many pairs were
 *     grouped, ``slots`` how many new runs that took. ``unfit`` is None, or
 *     (pair, rest) at the first pair that cannot be grouped (not a 2-tuple, unhashable or
 *     new non-str key): that pair and the iterator of the call's remaining pairs; the
 *     caller goes on from ``records``, which this function has advanced past that record.
 *
 * extend_records(extend, mapper, path, records) -> None
 *     The plain map loop: extend(out) for each non-None out = mapper((path, offset), line).
 *
 * group_sizes(groups), take_items(items, rows), first_values(groups, rows)
 *     What a grouped buffer's spill does per key (see "spilling groups" below).
 *
 * reduce_text(reducer, groups, line, write, most)
 *     The reduce loop of a job with a reducer and text output (see "reduce to text").
 *
 * combine_groups(combiner, keys, groups, ranks, check, refuse)
 *     The loop around a combiner, on the map side (see "combining").
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The key codec's functions (zmr/_codec.c) and the reduce side's Groups (zmr/_groups.c),
 * added to this module. */
extern PyMethodDef codec_methods[];
extern int groups_add_to_module(PyObject *m);

/* mapper((path, offset), line) for one (offset, line) record: a new reference, or NULL. */
static PyObject *
call_mapper(PyObject *mapper, PyObject *path, PyObject *record)
{
    PyObject *where, *out;

    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 2) {
        PyErr_SetString(PyExc_TypeError, "records must be (offset, line) tuples");
        return NULL;
    }
    where = PyTuple_Pack(2, path, PyTuple_GET_ITEM(record, 0));
    if (where == NULL)
        return NULL;
    out = PyObject_CallFunctionObjArgs(mapper, where, PyTuple_GET_ITEM(record, 1), NULL);
    Py_DECREF(where);
    return out;
}

/* ------------------------------------------------------------------ ValueRuns
 *
 * One key's buffered values, run-length encoded by identity: appending the very object
 * appended last (word count's ``1``, any small int or interned str) only bumps a count.
 * The values read back are exactly those appended, in order (the same objects), so a
 * combiner sees what it would see in a list; a word count's buffer so holds one run per
 * distinct word instead of one list slot per occurrence, and each pair costs a dict lookup
 * and an increment. Read like a list: len() (values, not runs), iteration, v[i].
 */

typedef struct {
    PyObject_HEAD
    /* The run being extended lives in the object itself, so a pair that extends it touches
     * one cache line (perf: the dict lookup and this are a word count's per-pair cost). */
    PyObject *last;
    Py_ssize_t last_count, total;
    /* Earlier runs, allocated only when the value changes. */
    Py_ssize_t runs, capacity;
    PyObject **values;
    Py_ssize_t *counts;
} ValueRuns;

typedef struct {
    PyObject_HEAD
    ValueRuns *source;
    Py_ssize_t run, left;       /* run == source->runs means the last run */
} ValueRunsIter;

static PyTypeObject ValueRunsType, ValueRunsIterType;

static ValueRuns *
runs_new(void)
{
    ValueRuns *self = PyObject_GC_New(ValueRuns, &ValueRunsType);

    if (self == NULL)
        return NULL;
    self->last = NULL;
    self->last_count = self->total = self->runs = self->capacity = 0;
    self->values = NULL;
    self->counts = NULL;
    PyObject_GC_Track(self);
    return self;
}

/* Move the current run to the arrays. */
static int
runs_push_last(ValueRuns *self)
{
    Py_ssize_t n = self->runs, capacity;

    if (n == self->capacity) {
        capacity = n < 4 ? 4 : n * 2;
        PyObject **values = PyMem_Realloc(self->values, capacity * sizeof(PyObject *));
        if (values == NULL)
            goto nomemory;
        self->values = values;
        Py_ssize_t *counts = PyMem_Realloc(self->counts, capacity * sizeof(Py_ssize_t));
        if (counts == NULL)
            goto nomemory;
        self->counts = counts;
        self->capacity = capacity;
    }
    self->values[n] = self->last;       /* the reference moves */
    self->counts[n] = self->last_count;
    self->runs = n + 1;
    self->last = NULL;
    return 0;
nomemory:
    PyErr_NoMemory();
    return -1;
}

/* 1 if appending made a new run, 0 if it extended the last one, -1 on error. */
static int
runs_append(ValueRuns *self, PyObject *value)
{
    if (self->last == value) {
        self->last_count++;
        self->total++;
        return 0;
    }
    if (self->last != NULL && runs_push_last(self) < 0)
        return -1;
    self->last = Py_NewRef(value);
    self->last_count = 1;
    self->total++;
    return 1;
}

static int
runs_clear(ValueRuns *self)
{
    Py_ssize_t i, n = self->runs;

    self->runs = self->total = self->last_count = 0;
    for (i = 0; i < n; i++)
        Py_CLEAR(self->values[i]);
    Py_CLEAR(self->last);
    return 0;
}

static int
runs_traverse(ValueRuns *self, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < self->runs; i++)
        Py_VISIT(self->values[i]);
    Py_VISIT(self->last);
    return 0;
}

static void
runs_dealloc(ValueRuns *self)
{
    PyObject_GC_UnTrack(self);
    runs_clear(self);
    PyMem_Free(self->values);
    PyMem_Free(self->counts);
    PyObject_GC_Del(self);
}

static Py_ssize_t
runs_length(ValueRuns *self)
{
    return self->total;
}

static PyObject *
runs_item(ValueRuns *self, Py_ssize_t i)
{
    if (i < 0 || i >= self->total) {
        PyErr_SetString(PyExc_IndexError, "ValueRuns index out of range");
        return NULL;
    }
    for (Py_ssize_t r = 0; r < self->runs; r++) {
        if (i < self->counts[r])
            return Py_NewRef(self->values[r]);
        i -= self->counts[r];
    }
    return Py_NewRef(self->last);
}

static PyObject *
runs_iter(ValueRuns *self)
{
    ValueRunsIter *it = PyObject_GC_New(ValueRunsIter, &ValueRunsIterType);

    if (it == NULL)
        return NULL;
    it->source = (ValueRuns *)Py_NewRef(self);
    it->run = 0;
    it->left = self->runs ? self->counts[0] : self->last_count;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static PyObject *
runs_run_count(ValueRuns *self, PyObject *unused)
{
    return PyLong_FromSsize_t(self->runs + (self->last != NULL));
}

static PyObject *
iter_next(ValueRunsIter *it)
{
    ValueRuns *source = it->source;

    if (source == NULL)
        return NULL;
    while (it->left == 0) {
        if (++it->run > source->runs) {
            Py_CLEAR(it->source);
            return NULL;
        }
        it->left = it->run < source->runs ? source->counts[it->run] : source->last_count;
    }
    it->left--;
    return Py_NewRef(it->run < source->runs ? source->values[it->run] : source->last);
}

static int
iter_traverse(ValueRunsIter *it, visitproc visit, void *arg)
{
    Py_VISIT(it->source);
    return 0;
}

static void
iter_dealloc(ValueRunsIter *it)
{
    PyObject_GC_UnTrack(it);
    Py_XDECREF(it->source);
    PyObject_GC_Del(it);
}

static PySequenceMethods runs_as_sequence = {
    .sq_length = (lenfunc)runs_length,
    .sq_item = (ssizeargfunc)runs_item,
};

static PyMethodDef runs_methods[] = {
    {"run_count", (PyCFunction)runs_run_count, METH_NOARGS,
     "How many runs of identical values are stored (what the buffer holds in memory)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ValueRunsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "zmr._speedups.ValueRuns",
    .tp_basicsize = sizeof(ValueRuns),
    .tp_dealloc = (destructor)runs_dealloc,
    .tp_as_sequence = &runs_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One key's buffered values, run-length encoded by identity (read-only).",
    .tp_traverse = (traverseproc)runs_traverse,
    .tp_clear = (inquiry)runs_clear,
    .tp_iter = (getiterfunc)runs_iter,
    .tp_methods = runs_methods,
};

static PyTypeObject ValueRunsIterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "zmr._speedups.ValueRunsIterator",
    .tp_basicsize = sizeof(ValueRunsIter),
    .tp_dealloc = (destructor)iter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)iter_traverse,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)iter_next,
};

/* ------------------------------------------------------------------ the map loops */

/* 1: grouped; 0: cannot be grouped (no exception set); -1: error. *runs counts new runs. */
static int
group_pair(PyObject *groups, PyObject *pair, Py_ssize_t *runs)
{
    PyObject *key, *values;
    int added;

    if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2)
        return 0;
    key = PyTuple_GET_ITEM(pair, 0);
    values = PyDict_GetItemWithError(groups, key);     /* borrowed */
    if (values == NULL) {
        if (PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_TypeError))
                return -1;
            PyErr_Clear();                              /* unhashable key */
            return 0;
        }
        if (!PyUnicode_CheckExact(key))
            return 0;
        values = (PyObject *)runs_new();
        if (values == NULL)
            return -1;
        if (PyDict_SetItem(groups, key, values) < 0) {
            Py_DECREF(values);
            return -1;
        }
        Py_DECREF(values);                              /* the dict holds it */
    }
    else if (Py_TYPE(values) != &ValueRunsType) {
        PyErr_SetString(PyExc_TypeError, "group_records: groups must hold ValueRuns");
        return -1;
    }
    added = runs_append((ValueRuns *)values, PyTuple_GET_ITEM(pair, 1));
    if (added < 0)
        return -1;
    *runs += added;
    return 1;
}

/* Group every pair of ``it``; on an unfit pair, set *unfit to (pair, it). */
static int
group_output(PyObject *groups, PyObject *it, Py_ssize_t *count, Py_ssize_t *runs,
             PyObject **unfit)
{
    PyObject *pair;
    int fit;

    while ((pair = PyIter_Next(it)) != NULL) {
        fit = group_pair(groups, pair, runs);
        if (fit <= 0) {
            if (fit == 0)
                *unfit = PyTuple_Pack(2, pair, it);
            Py_DECREF(pair);
            return (fit == 0 && *unfit != NULL) ? 0 : -1;
        }
        Py_DECREF(pair);
        (*count)++;
    }
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *
group_records(PyObject *self, PyObject *args)
{
    PyObject *groups, *mapper, *path, *records, *record, *out, *it, *unfit = NULL;
    Py_ssize_t count = 0, runs = 0;
    int failed = 0;

    if (!PyArg_ParseTuple(args, "O!OOO:group_records", &PyDict_Type, &groups, &mapper,
                          &path, &records))
        return NULL;
    records = PyObject_GetIter(records);
    if (records == NULL)
        return NULL;
    while (unfit == NULL && (record = PyIter_Next(records)) != NULL) {
        out = call_mapper(mapper, path, record);
        Py_DECREF(record);
        if (out == Py_None) {
            Py_DECREF(out);
            continue;
        }
        it = out == NULL ? NULL : PyObject_GetIter(out);
        Py_XDECREF(out);
        if (it == NULL) {
            failed = 1;
            break;
        }
        failed = group_output(groups, it, &count, &runs, &unfit) < 0;
        Py_DECREF(it);
        if (failed)
            break;
    }
    Py_DECREF(records);
    if (failed || PyErr_Occurred()) {
        Py_XDECREF(unfit);
        return NULL;
    }
    return Py_BuildValue("(nnN)", count, runs, unfit == NULL ? Py_NewRef(Py_None) : unfit);
}

static PyObject *
extend_records(PyObject *self, PyObject *args)
{
    PyObject *extend, *mapper, *path, *records, *record, *out, *done;

    if (!PyArg_ParseTuple(args, "OOOO:extend_records", &extend, &mapper, &path, &records))
        return NULL;
    records = PyObject_GetIter(records);
    if (records == NULL)
        return NULL;
    while ((record = PyIter_Next(records)) != NULL) {
        out = call_mapper(mapper, path, record);
        Py_DECREF(record);
        if (out == NULL)
            break;
        if (out == Py_None) {
            Py_DECREF(out);
            continue;
        }
        done = PyObject_CallOneArg(extend, out);
        Py_DECREF(out);
        if (done == NULL)
            break;
        Py_DECREF(done);
    }
    Py_DECREF(records);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ spilling groups
 *
 * A grouped buffer spills as a list of groups (ValueRuns, or lists) in key order; the
 * spill needs each group's size and, for a group of one value (most of a bigram count's),
 * that value. Both are per-key loops that cost more through map()/len()/[0] than the
 * grouping itself; here they read the ValueRuns struct directly.
 */

static Py_ssize_t
group_length(PyObject *group)
{
    if (Py_IS_TYPE(group, &ValueRunsType))
        return ((ValueRuns *)group)->total;
    if (PyList_CheckExact(group))
        return PyList_GET_SIZE(group);
    return PyObject_Length(group);
}

/* group_sizes(groups) -> bytes: len() of each group of the list, as native int64s. */
static PyObject *
group_sizes(PyObject *self, PyObject *groups)
{
    Py_ssize_t n, i, size;
    PyObject *out;
    int64_t *sizes;

    if (!PyList_CheckExact(groups)) {
        PyErr_SetString(PyExc_TypeError, "group_sizes needs a list");
        return NULL;
    }
    n = PyList_GET_SIZE(groups);
    out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL)
        return NULL;
    sizes = (int64_t *)PyBytes_AS_STRING(out);
    for (i = 0; i < n; i++) {
        size = group_length(PyList_GET_ITEM(groups, i));
        if (size < 0) {
            Py_DECREF(out);
            return NULL;
        }
        sizes[i] = size;
    }
    return out;
}

/* The first value of a group (a new reference), or NULL with IndexError if it is empty. */
static PyObject *
first_value(PyObject *group)
{
    if (Py_IS_TYPE(group, &ValueRunsType)) {
        ValueRuns *runs = (ValueRuns *)group;
        if (runs->total == 0) {
            PyErr_SetString(PyExc_IndexError, "ValueRuns index out of range");
            return NULL;
        }
        return Py_NewRef(runs->runs ? runs->values[0] : runs->last);
    }
    if (PyList_CheckExact(group)) {
        if (PyList_GET_SIZE(group) == 0) {
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            return NULL;
        }
        return Py_NewRef(PyList_GET_ITEM(group, 0));
    }
    return PySequence_GetItem(group, 0);
}

/* items[rows[j]] (first: items[rows[j]][0]) for each int64 of the buffer ``rows``. */
static PyObject *
take_rows(PyObject *args, const char *name, int first)
{
    PyObject *items, *rows, *out, *item;
    Py_buffer view;
    Py_ssize_t n, j, count;
    const int64_t *at;

    if (!PyArg_ParseTuple(args, "OO", &items, &rows))
        return NULL;
    if (!PyList_CheckExact(items)) {
        PyErr_Format(PyExc_TypeError, "%s needs a list", name);
        return NULL;
    }
    if (PyObject_GetBuffer(rows, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (view.itemsize != 8 || view.format == NULL
            || (strcmp(view.format, "q") != 0 && strcmp(view.format, "l") != 0)) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_TypeError, "%s needs rows as a contiguous int64 buffer", name);
        return NULL;
    }
    count = view.len / 8;
    at = (const int64_t *)view.buf;
    n = PyList_GET_SIZE(items);
    out = PyList_New(count);
    if (out == NULL)
        goto done;
    for (j = 0; j < count; j++) {
        if (at[j] < 0 || at[j] >= n) {
            PyErr_Format(PyExc_IndexError, "%s: row %lld out of range", name,
                         (long long)at[j]);
            Py_CLEAR(out);
            goto done;
        }
        item = PyList_GET_ITEM(items, at[j]);
        item = first ? first_value(item) : Py_NewRef(item);
        if (item == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, j, item);
    }
done:
    PyBuffer_Release(&view);
    return out;
}

/* take_items(items, rows) -> [items[r] for r in rows] */
static PyObject *
take_items(PyObject *self, PyObject *args)
{
    return take_rows(args, "take_items", 0);
}

/* first_values(groups, rows) -> [groups[r][0] for r in rows] */
static PyObject *
first_values(PyObject *self, PyObject *args)
{
    return take_rows(args, "first_values", 1);
}

/* ------------------------------------------------------------------ reduce to text
 *
 * reduce_text(reducer, groups, line, write, most) -> (records, groups done, chars, bad)
 *     For up to ``most`` (group, key, values) of the iterator ``groups``: out =
 *     reducer(key, values); each pair of out becomes a line, "key\tvalue\n" for a str key
 *     with a str or int value (exact types), line(key, value) for any other; the lines
 *     are handed to write(text) about 4,096 at a time (so one key's millions of pairs are
 *     never held at once), ``chars`` the sum of what write returned. ``bad`` is None, or
 *     (pair,) for the first item of an out that is not a 2-tuple (it and the rest of that
 *     out are not written). tasks/accel.py has the reference.
 */

#define FLUSH_PIECES 16384

static int
append_line(PyObject *pieces, PyObject *line, PyObject *key, PyObject *value,
            PyObject *tab, PyObject *newline)
{
    PyObject *text;
    int failed;

    if (PyUnicode_CheckExact(key) && (PyUnicode_CheckExact(value) || PyLong_CheckExact(value))) {
        text = PyLong_CheckExact(value) ? PyObject_Str(value) : Py_NewRef(value);
        if (text == NULL)
            return -1;
        failed = PyList_Append(pieces, key) < 0 || PyList_Append(pieces, tab) < 0
                 || PyList_Append(pieces, text) < 0 || PyList_Append(pieces, newline) < 0;
        Py_DECREF(text);
        return failed ? -1 : 0;
    }
    text = PyObject_CallFunctionObjArgs(line, key, value, NULL);
    if (text == NULL)
        return -1;
    failed = PyList_Append(pieces, text) < 0;
    Py_DECREF(text);
    return failed ? -1 : 0;
}

typedef struct {
    PyObject *line, *write, *pieces, *tab, *newline, *empty;
    Py_ssize_t records, chars;
} TextOut;

/* Hand the lines gathered so far to write(): 0, or -1 on error. */
static int
flush_lines(TextOut *to)
{
    PyObject *text, *written;
    Py_ssize_t n;

    if (PyList_GET_SIZE(to->pieces) == 0)
        return 0;
    text = PyUnicode_Join(to->empty, to->pieces);
    if (text == NULL || PyList_SetSlice(to->pieces, 0, PyList_GET_SIZE(to->pieces), NULL) < 0) {
        Py_XDECREF(text);
        return -1;
    }
    written = PyObject_CallOneArg(to->write, text);
    Py_DECREF(text);
    if (written == NULL)
        return -1;
    n = PyLong_AsSsize_t(written);
    Py_DECREF(written);
    if (n == -1 && PyErr_Occurred())
        return -1;
    to->chars += n;
    return 0;
}

/* The lines of one reducer call's pairs: 0, 1 at a bad pair (*bad set), -1 on error. */
static int
reduced_lines(PyObject *out, TextOut *to, PyObject **bad)
{
    PyObject *pairs, *pair;
    int status = 0;

    pairs = PyObject_GetIter(out);
    if (pairs == NULL)
        return -1;
    while ((pair = PyIter_Next(pairs)) != NULL) {
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            *bad = pair;                /* the reference moves */
            status = 1;
            break;
        }
        if (append_line(to->pieces, to->line, PyTuple_GET_ITEM(pair, 0),
                        PyTuple_GET_ITEM(pair, 1), to->tab, to->newline) < 0
                || (PyList_GET_SIZE(to->pieces) >= FLUSH_PIECES && flush_lines(to) < 0)) {
            Py_DECREF(pair);
            status = -1;
            break;
        }
        Py_DECREF(pair);
        to->records++;
    }
    Py_DECREF(pairs);
    return PyErr_Occurred() ? -1 : status;
}

static PyObject *
reduce_text(PyObject *self, PyObject *args)
{
    PyObject *reducer, *groups, *group, *out, *bad = NULL, *result = NULL;
    Py_ssize_t most, done = 0;
    TextOut to = {0};
    int status = 0;

    if (!PyArg_ParseTuple(args, "OOOOn:reduce_text", &reducer, &groups, &to.line, &to.write,
                          &most))
        return NULL;
    to.pieces = PyList_New(0);
    to.tab = PyUnicode_FromString("\t");
    to.newline = PyUnicode_FromString("\n");
    to.empty = PyUnicode_FromString("");
    if (to.pieces == NULL || to.tab == NULL || to.newline == NULL || to.empty == NULL)
        goto done;
    while (done < most && status == 0 && (group = PyIter_Next(groups)) != NULL) {
        done++;
        if (!PyTuple_CheckExact(group) || PyTuple_GET_SIZE(group) != 3) {
            Py_DECREF(group);
            PyErr_SetString(PyExc_TypeError, "groups must be (group, key, values) tuples");
            goto done;
        }
        out = PyObject_CallFunctionObjArgs(reducer, PyTuple_GET_ITEM(group, 1),
                                           PyTuple_GET_ITEM(group, 2), NULL);
        Py_DECREF(group);
        if (out == NULL)
            goto done;
        if (out != Py_None)
            status = reduced_lines(out, &to, &bad);
        Py_DECREF(out);
    }
    if (status < 0 || PyErr_Occurred() || flush_lines(&to) < 0)
        goto done;
    if (bad != NULL)
        result = Py_BuildValue("(nnnN)", to.records, done, to.chars, PyTuple_Pack(1, bad));
    else
        result = Py_BuildValue("(nnnO)", to.records, done, to.chars, Py_None);
done:
    Py_XDECREF(bad);
    Py_XDECREF(to.pieces);
    Py_XDECREF(to.tab);
    Py_XDECREF(to.newline);
    Py_XDECREF(to.empty);
    return result;
}

/* ------------------------------------------------------------------ combining
 *
 * combine_groups(combiner, keys, groups, ranks, check, refuse) -> (out ranks, out values)
 *     For each (rank, key, values) of zip(ranks, keys, groups): out = combiner(key,
 *     iter(values)); for each pair of out: refuse(pair) (which raises) if it is not a
 *     2-tuple, check(key, pair[0]) if pair[0] is not key, then rank and pair[1] appended.
 *     tasks/accel.py has the reference; a bigram count's merges call it per repeated key.
 */

static int
combined_pairs(PyObject *out, PyObject *key, PyObject *rank, PyObject *check,
               PyObject *refuse, PyObject *out_ranks, PyObject *out_values)
{
    PyObject *pairs, *pair, *done;
    int failed = 0;

    pairs = PyObject_GetIter(out);
    if (pairs == NULL)
        return -1;
    while (!failed && (pair = PyIter_Next(pairs)) != NULL) {
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            done = PyObject_CallOneArg(refuse, pair);
            Py_XDECREF(done);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "refuse() returned for a bad pair");
            failed = 1;
        } else if (PyTuple_GET_ITEM(pair, 0) != key
                   && (done = PyObject_CallFunctionObjArgs(check, key, PyTuple_GET_ITEM(pair, 0),
                                                           NULL)) == NULL) {
            failed = 1;
        } else {
            if (PyTuple_GET_ITEM(pair, 0) != key)
                Py_DECREF(done);
            failed = PyList_Append(out_ranks, rank) < 0
                     || PyList_Append(out_values, PyTuple_GET_ITEM(pair, 1)) < 0;
        }
        Py_DECREF(pair);
    }
    Py_DECREF(pairs);
    return failed || PyErr_Occurred() ? -1 : 0;
}

static PyObject *
combine_groups(PyObject *self, PyObject *args)
{
    PyObject *combiner, *keys, *groups, *ranks, *check, *refuse;
    PyObject *ki = NULL, *gi = NULL, *ri = NULL, *out_ranks = NULL, *out_values = NULL;
    PyObject *rank, *key, *values, *it, *out, *result = NULL;
    int failed = 0;

    if (!PyArg_ParseTuple(args, "OOOOOO:combine_groups", &combiner, &keys, &groups, &ranks,
                          &check, &refuse))
        return NULL;
    ri = PyObject_GetIter(ranks);
    ki = PyObject_GetIter(keys);
    gi = PyObject_GetIter(groups);
    out_ranks = PyList_New(0);
    out_values = PyList_New(0);
    if (ri == NULL || ki == NULL || gi == NULL || out_ranks == NULL || out_values == NULL)
        goto done;
    while (!failed && (rank = PyIter_Next(ri)) != NULL) {         /* zip()'s order */
        key = PyIter_Next(ki);
        values = key == NULL ? NULL : PyIter_Next(gi);
        if (values == NULL) {
            Py_DECREF(rank);
            Py_XDECREF(key);
            break;
        }
        it = PyObject_GetIter(values);
        out = it == NULL ? NULL : PyObject_CallFunctionObjArgs(combiner, key, it, NULL);
        Py_XDECREF(it);
        if (out == NULL)
            failed = 1;
        else if (out != Py_None)
            failed = combined_pairs(out, key, rank, check, refuse, out_ranks, out_values) < 0;
        Py_XDECREF(out);
        Py_DECREF(values);
        Py_DECREF(key);
        Py_DECREF(rank);
    }
    if (!failed && !PyErr_Occurred())
        result = PyTuple_Pack(2, out_ranks, out_values);
done:
    Py_XDECREF(ri);
    Py_XDECREF(ki);
    Py_XDECREF(gi);
    Py_XDECREF(out_ranks);
    Py_XDECREF(out_values);
    return result;
}

static PyMethodDef methods[] = {
    {"combine_groups", combine_groups, METH_VARARGS,
     "Call the combiner on each group and collect its values (see the module source)."},
    {"reduce_text", reduce_text, METH_VARARGS,
     "Call the reducer on groups and format its pairs as text lines (see the module source)."},
    {"group_sizes", group_sizes, METH_O,
     "len() of each group of a list, as bytes of native int64 (see the module source)."},
    {"take_items", take_items, METH_VARARGS,
     "take_items(items, rows): [items[r] for r in rows], rows an int64 buffer."},
    {"first_values", first_values, METH_VARARGS,
     "first_values(groups, rows): [groups[r][0] for r in rows], rows an int64 buffer."},
    {"group_records", group_records, METH_VARARGS,
     "Map records and group their pairs' values per str key (see the module source)."},
    {"extend_records", extend_records, METH_VARARGS,
     "Map records and hand each output to extend (see the module source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "zmr._speedups",
    "The map side's per-record loops, the key codec and the reduce side's grouping in C "
    "(optional; see zmr/tasks/accel.py, zmr/storage/codec.py and zmr/storage/runs.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *m;

    if (PyType_Ready(&ValueRunsType) < 0 || PyType_Ready(&ValueRunsIterType) < 0)
        return NULL;
    m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "ValueRuns", (PyObject *)&ValueRunsType) < 0
        || PyModule_AddFunctions(m, codec_methods) < 0 || groups_add_to_module(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
