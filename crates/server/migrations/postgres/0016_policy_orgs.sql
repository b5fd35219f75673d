-- The PostgreSQL twin of migrations/sqlite/0016_policy_orgs.sql.
--
-- Policies by organisation (crates/server/src/hub; docs/hub.md): each organisation has its
-- own policy set and history. Version numbers stay one counter shared by every
-- organisation (the table's key is unchanged): an organisation's current set is its
-- highest version, and its versions are not contiguous. What existed before is the
-- platform's (`default`).
ALTER TABLE hub_policy_versions ADD COLUMN org TEXT NOT NULL DEFAULT 'default';

-- An organisation's current version (MAX) and its history, newest first.
CREATE INDEX hub_policy_versions_org ON hub_policy_versions(org, version);
