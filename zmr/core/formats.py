"""The names of zmr's input and output formats: shared vocabulary of plans, specs and
settings (the readers and writers themselves are in ``zmr.storage``)."""

TEXT, ARROW, JSONL, CSV, PARQUET = "text", "arrow", "jsonl", "csv", "parquet"
#: Output of mrjob jobs: each value (already encoded by the job's OUTPUT_PROTOCOL) is one
#: line, the key is not written (Hadoop Streaming writes what the task printed).
LINES = "lines"
#: Input of mrjob's ``mapper_raw``: one split and one record (the path) per whole file.
FILES = "files"
#: Formats a job may be told to write.
USER_OUTPUT_FORMATS = (TEXT, JSONL, CSV, PARQUET)
#: Formats a job's output may have (``arrow`` only between the steps of a job, ``lines``
#: only for mrjob jobs).
OUTPUT_FORMATS = (*USER_OUTPUT_FORMATS, ARROW, LINES)
#: Formats a job may be told to read.
USER_INPUT_FORMATS = (TEXT, CSV, JSONL, PARQUET, "ipc")
#: Formats a job may read (``arrow`` only between the steps of a job, ``files`` only for
#: mrjob's ``mapper_raw``).
INPUT_FORMATS = (*USER_INPUT_FORMATS, ARROW, FILES)
FORMATS = INPUT_FORMATS
