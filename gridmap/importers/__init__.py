"""Bringing files in: read → validate → upsert in one transaction, a dry run unless commit.

| module     | what                                                                  |
|------------|-----------------------------------------------------------------------|
| core       | `import_files` / `import_directory`: the orchestration                 |
| sources    | `Source`, `Record`, the `Reader` declaration; size limits and decoding |
| readers/   | one module per format (csv, geojson, ogr: shp/zip/gpkg/kml, xlsx), by suffix |
| coordinates| the file's CRS (or --crs: EPSG, gcj02, bd09) to lon/lat; swapped axes  |
| layouts    | public layouts read without mapping (Aliyun DataV); typed cell text   |
| specs      | one `TableSpec` per table: fields, key, references, checks            |
| fields     | cell parsers: each value or a `CellProblem` saying what to fix        |
| writers    | the table → writer map and the one staging COPY-insert helper         |
| report     | `ImportReport` and `Problem`: what a person reads back                |
| histories  | issue events replayed through the state machine, an issue at a time   |
| within     | an import limited to one region (a township's staff: their township)  |
| uploads    | files uploaded in a browser, kept per upload between dry run and commit |
| runs       | an upload's dry run or commit worked in the background: state, progress |
"""
