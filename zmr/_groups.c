/* zmr._speedups, the reduce side's grouping: runs of equal keys, batch after batch, joined
 * into reduce groups whose values are read lazily across batches.
 *
 * Groups(parts) iterates (group, key, values) like zmr/storage/runs.py's join_runs_py
 * (itertools.groupby over the runs, chaining a group's runs). ``parts`` yields one tuple
 * per sorted batch, (groups, keys, values, bounds): lists where run r has group groups[r]
 * (bytes compared for equality: an encoded key or group prefix), key keys[r], and values
 * values[bounds[r]:bounds[r + 1]]. A group that continues into the next batch is joined
 * with its first run there; its values iterator pulls that batch only when it gets there,
 * so one group may have more values than fit in memory. Moving on to the next group ends
 * the previous group's iterator (as groupby does) and skips its unread runs.
 *
 * Per value this costs a list read; per run a comparison of two bytes; no Python objects
 * are made per run but the (group, key, values) a reducer is handed.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *parts;                    /* iterator of per-batch tuples */
    PyObject *groups, *keys, *values, *bounds;  /* the batch being read (lists) */
    Py_ssize_t next_run, runs;          /* next run of this batch to read, and how many */
    PyObject *group;                    /* the current group's bytes */
    Py_ssize_t position, end;           /* values of the current run left to read */
    Py_ssize_t generation;              /* which group the open values iterator is of */
    int open, finished;
} Groups;

typedef struct {
    PyObject_HEAD
    Groups *source;
    Py_ssize_t generation;
} GroupValues;

static PyTypeObject GroupsType, GroupValuesType;

static int
same_group(PyObject *a, PyObject *b)
{
    if (PyBytes_CheckExact(a) && PyBytes_CheckExact(b))
        return PyBytes_GET_SIZE(a) == PyBytes_GET_SIZE(b)
               && memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), PyBytes_GET_SIZE(a)) == 0;
    return PyObject_RichCompareBool(a, b, Py_EQ);
}

static Py_ssize_t
bound(Groups *self, Py_ssize_t r)
{
    return PyLong_AsSsize_t(PyList_GET_ITEM(self->bounds, r));
}

/* Takes the next batch with runs from ``parts``: 1 done, 0 none left, -1 error. */
static int
load_batch(Groups *self)
{
    PyObject *part;
    Py_ssize_t r, last = 0, at;

    while (!self->finished && self->next_run >= self->runs) {
        part = PyIter_Next(self->parts);
        if (part == NULL) {
            if (PyErr_Occurred())
                return -1;
            self->finished = 1;
            break;
        }
        if (!PyTuple_Check(part) || PyTuple_GET_SIZE(part) != 4
            || !PyList_CheckExact(PyTuple_GET_ITEM(part, 0))
            || !PyList_CheckExact(PyTuple_GET_ITEM(part, 1))
            || !PyList_CheckExact(PyTuple_GET_ITEM(part, 2))
            || !PyList_CheckExact(PyTuple_GET_ITEM(part, 3))) {
            Py_DECREF(part);
            PyErr_SetString(PyExc_TypeError, "Groups needs (groups, keys, values, bounds) lists");
            return -1;
        }
        Py_XSETREF(self->groups, Py_NewRef(PyTuple_GET_ITEM(part, 0)));
        Py_XSETREF(self->keys, Py_NewRef(PyTuple_GET_ITEM(part, 1)));
        Py_XSETREF(self->values, Py_NewRef(PyTuple_GET_ITEM(part, 2)));
        Py_XSETREF(self->bounds, Py_NewRef(PyTuple_GET_ITEM(part, 3)));
        Py_DECREF(part);
        self->runs = PyList_GET_SIZE(self->groups);
        self->next_run = 0;
        if (PyList_GET_SIZE(self->keys) != self->runs
            || PyList_GET_SIZE(self->bounds) != self->runs + 1)
            goto bad;
        for (r = 0; r <= self->runs; r++) {     /* checked once, so reads need no checks */
            at = bound(self, r);
            if (at == -1 && PyErr_Occurred())
                return -1;
            if (at < last || at > PyList_GET_SIZE(self->values) || (r == 0 && at != 0))
                goto bad;
            last = at;
        }
    }
    return self->next_run < self->runs;
bad:
    self->runs = 0;
    PyErr_SetString(PyExc_ValueError, "Groups: run bounds do not match the batch");
    return -1;
}

/* The current group's run is read: go on with the next run if it is of the same group.
 * 1: it is (position/end set), 0: the group ended, -1: error. */
static int
continue_group(Groups *self)
{
    int loaded = load_batch(self), same;

    if (loaded <= 0)
        return loaded;
    same = same_group(PyList_GET_ITEM(self->groups, self->next_run), self->group);
    if (same <= 0)
        return same;
    self->position = bound(self, self->next_run);
    self->end = bound(self, self->next_run + 1);
    self->next_run++;
    return 1;
}

static PyObject *
groups_next(Groups *self)
{
    GroupValues *values;
    PyObject *out;
    int more;
    Py_ssize_t r;

    while (self->open) {        /* skip what the reducer left of the previous group */
        self->position = self->end;
        more = continue_group(self);
        if (more < 0)
            return NULL;
        self->open = more;
    }
    more = load_batch(self);
    if (more <= 0)
        return NULL;
    r = self->next_run++;
    Py_XSETREF(self->group, Py_NewRef(PyList_GET_ITEM(self->groups, r)));
    self->position = bound(self, r);
    self->end = bound(self, r + 1);
    self->generation++;
    self->open = 1;
    values = PyObject_New(GroupValues, &GroupValuesType);
    if (values == NULL)
        return NULL;
    values->source = (Groups *)Py_NewRef(self);
    values->generation = self->generation;
    out = PyTuple_Pack(3, self->group, PyList_GET_ITEM(self->keys, r), values);
    Py_DECREF(values);
    return out;
}

static PyObject *
values_next(GroupValues *self)
{
    Groups *source = self->source;
    int more;

    if (self->generation != source->generation)
        return NULL;
    while (source->open) {
        if (source->position < source->end)
            return Py_NewRef(PyList_GET_ITEM(source->values, source->position++));
        more = continue_group(source);
        if (more < 0)
            return NULL;
        source->open = more;
    }
    return NULL;
}

static PyObject *
groups_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *parts;
    Groups *self;

    if (!_PyArg_NoKeywords("Groups", kwargs) || !PyArg_ParseTuple(args, "O:Groups", &parts))
        return NULL;
    parts = PyObject_GetIter(parts);
    if (parts == NULL)
        return NULL;
    self = PyObject_GC_New(Groups, type);
    if (self == NULL) {
        Py_DECREF(parts);
        return NULL;
    }
    self->parts = parts;
    self->groups = self->keys = self->values = self->bounds = self->group = NULL;
    self->next_run = self->runs = self->position = self->end = self->generation = 0;
    self->open = self->finished = 0;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static int
groups_traverse(Groups *self, visitproc visit, void *arg)
{
    Py_VISIT(self->parts);
    Py_VISIT(self->groups);
    Py_VISIT(self->keys);
    Py_VISIT(self->values);
    Py_VISIT(self->bounds);
    Py_VISIT(self->group);
    return 0;
}

static int
groups_clear(Groups *self)
{
    Py_CLEAR(self->parts);
    Py_CLEAR(self->groups);
    Py_CLEAR(self->keys);
    Py_CLEAR(self->values);
    Py_CLEAR(self->bounds);
    Py_CLEAR(self->group);
    self->runs = self->next_run = 0;
    self->open = 0;
    self->finished = 1;
    return 0;
}

static void
groups_dealloc(Groups *self)
{
    PyObject_GC_UnTrack(self);
    groups_clear(self);
    PyObject_GC_Del(self);
}

static void
values_dealloc(GroupValues *self)
{
    Py_DECREF(self->source);
    PyObject_Free(self);
}

static PyTypeObject GroupsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "zmr._speedups.Groups",
    .tp_basicsize = sizeof(Groups),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Groups(parts): (group, key, values) of runs joined across batches "
              "(see zmr/_groups.c).",
    .tp_new = groups_new,
    .tp_dealloc = (destructor)groups_dealloc,
    .tp_traverse = (traverseproc)groups_traverse,
    .tp_clear = (inquiry)groups_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)groups_next,
};

static PyTypeObject GroupValuesType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "zmr._speedups.GroupValues",
    .tp_basicsize = sizeof(GroupValues),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One reduce group's values, read lazily across batches.",
    .tp_dealloc = (destructor)values_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)values_next,
};

/* Adds Groups to the module (called by _speedups.c's module init). */
int
groups_add_to_module(PyObject *m)
{
    if (PyType_Ready(&GroupsType) < 0 || PyType_Ready(&GroupValuesType) < 0)
        return -1;
    return PyModule_AddObjectRef(m, "Groups", (PyObject *)&GroupsType);
}
