-- The organisation each audit entry concerns, resolved when it is appended (the organisation
-- its body names, or the owner of what it is about then; `default` for the platform's own).
-- Not part of the leaf: it decides who may read the entry, while the Merkle tree proves
-- what the entry says. Entries are read by index range, so the range filters this column
-- without an index of its own.
ALTER TABLE audit_entries ADD COLUMN org TEXT NOT NULL DEFAULT 'default';

-- Nothing reads entries by time (an export walks the log by index), and every appended
-- entry paid for this index.
DROP INDEX audit_entries_at;
