"""Bringing files in: read → validate → upsert in one transaction, a dry run unless commit.

| module     | what                                                                  |
|------------|-----------------------------------------------------------------------|
| core       | `import_files` / `import_directory`: the orchestration                 |
| sources    | `Source`, `Record`, the `Reader` declaration; size limits and decoding |
| readers/   | one module per format (csv, geojson), registered by suffix            |
| specs      | one `TableSpec` per table: fields, key, references, checks            |
| fields     | cell parsers: each value or a `CellProblem` saying what to fix        |
| writers    | the table → writer map and the one staging COPY-insert helper         |
| report     | `ImportReport` and `Problem`: what a person reads back                |
"""
