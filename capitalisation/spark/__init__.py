"""The dbt project on Apache Spark: building it from the landing files, comparing it with DuckDB."""
