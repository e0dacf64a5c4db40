"""The KPI engine on an exported lake (store/lake.py), read by DuckDB or by Spark SQL.

`python -m kpi --lake DIR [--engine duckdb|spark] [--spark-master URL]` gives the same
output as the store's: `kpi.engine.compute` runs unchanged, on a connection whose tables
are the lake's. DuckDB: `store.lake.open_store`. Spark: `SparkLake`, a connection with the
two calls the engine makes (`execute(sql, params).fetchall()`, `sql(sql, params=…).pl()`),
which renders every statement through the Spark dialect of store/components.py (the one
place that knows how Spark spells what DuckDB spells otherwise) and runs it as Spark SQL
over temporary views of the same Parquet files. So a ministry's cluster runs the component
declarations, not a re-implementation of the formulas.

pyspark is imported only for the Spark engine (requirements-spark.txt, not a province
server's requirements). Session settings: `spark_session`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import polars as pl

from store import lake as store_lake
from store.components import OVERDUE_CANDIDATES, SPARK, Dialect, overdue_candidates_select

ENGINES = ("duckdb", "spark")

# Spark types of the store's DuckDB types, for a lake table no source wrote (an empty view).
_SPARK_TYPES = {"VARCHAR": "STRING", "INTEGER": "INT", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN",
                "DATE": "DATE", "TIMESTAMP": "TIMESTAMP_NTZ"}

# Local runs (tests, one machine) are kept small and private; a cluster's own configuration
# (spark-defaults.conf, --spark-master / SPARK_MASTER) decides the rest.
LOCAL_CONFIG = {
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    # province_code "01" stays text: never inferred as the number 1 from a folder name
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}


class LakeError(RuntimeError):
    """A lake that cannot be opened (Vietnamese message for the CLI)."""


def _configured_master() -> str | None:
    """spark.master of Spark's own configuration (spark-defaults.conf in $SPARK_CONF_DIR or
    $SPARK_HOME/conf), if it names one."""
    for folder in (os.environ.get("SPARK_CONF_DIR"),
                   os.path.join(os.environ["SPARK_HOME"], "conf") if os.environ.get("SPARK_HOME") else None):
        conf = Path(folder) / "spark-defaults.conf" if folder else None
        if conf is None or not conf.is_file():
            continue
        for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0] == "spark.master":
                return parts[1].strip()
    return None


def spark_session(master: str | None = None):
    """The process's Spark session: the active one if a caller (a test module, a notebook)
    started it, else a new one on `master`, $SPARK_MASTER, Spark's own configuration
    (spark-defaults.conf), or local[2]. A local session gets all of LOCAL_CONFIG; a cluster
    only its spark.sql.* settings (memory, executors, UI are the cluster's)."""
    # pyspark 4.3 warns (in English, on stderr) about pandas 3 on every Arrow transfer; the
    # lake engine hands Arrow to polars and never uses pandas.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # a province server without requirements-spark.txt
        raise LakeError("Chưa cài pyspark: pip install -r requirements-spark.txt (cần Java 17).") from exc
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or os.environ.get("SPARK_MASTER")
    builder = SparkSession.builder.appName("kpi-lake")
    if master:
        builder = builder.master(master)
    elif _configured_master() is None:
        master = "local[2]"
        builder = builder.master(master)
    local = bool(master) and master.startswith("local")
    for key, value in LOCAL_CONFIG.items():
        if local or key.startswith("spark.sql."):
            builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class _Result:
    def __init__(self, frame):
        self._frame = frame

    def pl(self) -> pl.DataFrame:
        return pl.from_arrow(self._frame.toArrow())

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self._frame.collect()]


class SparkLake:
    """A lake opened in Spark SQL, answering the engine's queries like a DuckDB connection."""

    def __init__(self, spark, folder: Path, dialect: Dialect = SPARK):
        self.spark = spark
        self.folder = Path(folder)
        self.dialect = dialect
        for table in store_lake.LAKE_TABLES:
            self._register(table)
        # Derived from dossiers, not exported: a view, as store.lake.open_store has it.
        self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {OVERDUE_CANDIDATES} AS {overdue_candidates_select()}")

    def _register(self, table: str) -> None:
        columns = store_lake.schema(table)
        names = [c for c, _t in columns]
        # The store's schema, given: Spark reads no file footer to infer it (one job per table less).
        ddl = ", ".join(f"`{c}` {_SPARK_TYPES.get(t, 'STRING')}" for c, t in columns)
        if not store_lake.has_files(self.folder, table):
            frame = self.spark.createDataFrame([], ddl)
        elif table == store_lake.PARTITIONED:
            base = (self.folder / table).as_posix()
            frame = (self.spark.read.schema(ddl + ", `year` STRING, `month` STRING").option("basePath", base)
                     .parquet(store_lake.table_glob(self.folder, table)))
        else:
            frame = self.spark.read.schema(ddl).parquet(store_lake.table_glob(self.folder, table))
        frame = frame.select(*names)
        if table in store_lake.SHARED_TABLES:
            frame = frame.distinct()
        frame.createOrReplaceTempView(table)

    def _frame(self, sql: str, params=None):
        sql = self.dialect.render(sql)
        if params is None:
            return self.spark.sql(sql)
        return self.spark.sql(sql, args=params if isinstance(params, dict) else list(params))

    def execute(self, sql: str, params=None) -> _Result:
        return _Result(self._frame(sql, params))

    def sql(self, sql: str, params=None) -> _Result:
        return _Result(self._frame(sql, params))

    def close(self) -> None:
        """The session stays (other lakes, the caller's); only this lake's views go."""
        for table in (*store_lake.LAKE_TABLES, OVERDUE_CANDIDATES):
            self.spark.catalog.dropTempView(table)


def open_lake(folder: str | os.PathLike, engine: str = "duckdb", master: str | None = None):
    """A connection over an exported lake for kpi.engine.compute: DuckDB views, or Spark."""
    folder = Path(folder)
    if not (folder / store_lake.PARTITIONED).is_dir() and not (folder / "units").is_dir():
        raise LakeError(f"«{folder}» không phải thư mục dữ liệu đã xuất (python -m store.lake export).")
    if engine == "spark":
        return SparkLake(spark_session(master), folder)
    if engine != "duckdb":
        raise LakeError(f"Không có bộ máy «{engine}» (chọn: {', '.join(ENGINES)}).")
    return store_lake.open_store(folder)


def cli(args) -> int:
    """`python -m kpi --lake DIR …`: what the store's CLI prints (kpi.output.kpi_text), from
    the lake. Exit 0, or 2 with a Vietnamese message on standard error."""
    from kpi.output import print_kpis

    try:
        con = open_lake(args.lake, args.engine, args.spark_master)
    except LakeError as exc:
        print(exc, file=sys.stderr)
        return 2
    return print_kpis(con, args)
