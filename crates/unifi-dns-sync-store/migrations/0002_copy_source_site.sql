-- The origin site a copy was made from. When a record's value changes at its origin, the copy
-- made from that origin site is updated in place and re-pointed to the new record (SPEC §5.4),
-- even if the cycle that saw the change could not reach the target.
ALTER TABLE synced_copies ADD COLUMN source_site_id INTEGER REFERENCES sites (id) ON DELETE SET NULL;
