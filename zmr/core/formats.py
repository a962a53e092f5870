"""The names of zmr's input and output formats: shared vocabulary of plans, specs and
settings (the readers and writers themselves are in ``zmr.storage``)."""

TEXT, ARROW, JSONL, CSV, PARQUET = "text", "arrow", "jsonl", "csv", "parquet"
#: Formats a job's output may have (``arrow`` only between the steps of a job).
OUTPUT_FORMATS = (TEXT, JSONL, CSV, PARQUET, ARROW)
#: Formats a job may read (``arrow`` only between the steps of a job).
INPUT_FORMATS = (TEXT, CSV, JSONL, PARQUET, "ipc", ARROW)
FORMATS = INPUT_FORMATS
USER_INPUT_FORMATS = INPUT_FORMATS[:-1]
USER_OUTPUT_FORMATS = OUTPUT_FORMATS[:-1]
