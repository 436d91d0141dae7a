-- The DuckDB copy of the city-year for the flow-report baseline (in memory): the same columns as
-- load_postgres.sql, read from the bench's CSV export of cockpit.db ({csv} is its directory). DuckDB
-- answers by scanning its columns (min/max per row group); it has no secondary indexes to add.
CREATE TABLE regions AS SELECT * FROM read_csv('{csv}/regions.csv', header = true,
    columns = {'code': 'VARCHAR', 'parent': 'VARCHAR', 'level': 'VARCHAR', 'name': 'VARCHAR'});
CREATE TABLE cases AS SELECT * FROM read_csv('{csv}/cases.csv', header = true,
    columns = {'feed': 'VARCHAR', 'case_id': 'VARCHAR', 'category': 'VARCHAR', 'source': 'VARCHAR', 'grid': 'VARCHAR',
               'reported_at': 'BIGINT', 'deadline': 'BIGINT', 'status': 'VARCHAR', 'seq': 'BIGINT', 'closed_at': 'BIGINT',
               'department': 'VARCHAR', 'priority': 'VARCHAR', 'warn_at': 'BIGINT', 'escalations': 'BIGINT', 'supervised': 'BIGINT'});
CREATE TABLE case_events AS SELECT * FROM read_csv('{csv}/case_events.csv', header = true,
    columns = {'id': 'BIGINT', 'feed': 'VARCHAR', 'case_id': 'VARCHAR', 'origin': 'VARCHAR', 'seq': 'BIGINT', 'action': 'VARCHAR',
               'status': 'VARCHAR', 'at': 'BIGINT', 'tier': 'VARCHAR', 'outcome': 'VARCHAR'});
