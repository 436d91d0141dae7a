-- What a case is about and who is involved. Personal fields are sensitive: the policy masks them.
ALTER TABLE cases ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN department TEXT;
ALTER TABLE cases ADD COLUMN person_name TEXT;
ALTER TABLE cases ADD COLUMN person_phone TEXT;
ALTER TABLE cases ADD COLUMN person_id_number TEXT;
ALTER TABLE cases ADD COLUMN address TEXT;
CREATE INDEX cases_by_department ON cases (department, status);
CREATE INDEX cases_by_grid ON cases (grid);
