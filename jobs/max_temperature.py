"""Maximum temperature per year: the Hadoop book's NCDC example, on weather-station CSV
(``bench/gen_weather.py`` makes it; a small sample is in ``data/weather``).

    zmr run jobs/max_temperature.py --input data/weather --output out/max_temperature

Each record arrives as a dict of the CSV's columns; readings marked missing (9999) or of a
suspect quality are skipped, as in the book. Output: year -> highest temperature in tenths
of a degree Celsius.
"""

INPUT_FORMAT = "csv"
CSV_COLUMN_TYPES = {"station": "string", "date": "string", "temperature": "int64",
                    "quality": "int64"}
MISSING = 9999
GOOD_QUALITY = {0, 1, 4, 5, 9}
COMBINER = "reducer"            # max is associative: combine on the map side


def mapper(key, record):
    if record["temperature"] != MISSING and record["quality"] in GOOD_QUALITY:
        yield int(record["date"][:4]), record["temperature"]


def reducer(year, temperatures):
    yield year, max(temperatures)
