-- Administrative placement (issue #12 item 4) proposes the nearest schools
-- with free seats: a school's location (WGS-84 degrees), where known. Both
-- or neither; a school without one is ranked by catchment neighbours.
ALTER TABLE schools ADD COLUMN lat DOUBLE PRECISION NULL;
ALTER TABLE schools ADD COLUMN lon DOUBLE PRECISION NULL;
