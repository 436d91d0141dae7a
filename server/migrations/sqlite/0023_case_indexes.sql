-- Every case event rewrites its case's status and updated_at. An index keyed by status moved each case's
-- entry at every step (two B-tree pages dirtied per event): what is asked of it is only "the open cases
-- of a feed" and "a department's cases", which a partial index and a department index answer without
-- moving on a step.
DROP INDEX IF EXISTS cases_by_status;
CREATE INDEX cases_open ON cases (feed) WHERE status <> 'closed';
DROP INDEX IF EXISTS cases_by_department;
CREATE INDEX cases_by_department ON cases (department);
