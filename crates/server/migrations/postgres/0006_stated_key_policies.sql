-- Key broker review. A transfer policy must now say who may receive its key: `{}` is
-- refused instead of meaning "any trusted node", which must be asked for explicitly
-- ("any_trusted_node": true). Keys created before with neither tags nor flavor groups
-- were created with that documented meaning, so their stored policy now states it;
-- nothing else about them changes. (The service wrote every policy with serde_json, so
-- such a policy always starts with exactly this text.)
UPDATE broker_keys
   SET policy = '{"any_trusted_node":true,' || substr(policy, 2)
 WHERE policy LIKE '{"asset_tags":{},"flavor_groups":[],%';

-- The release log is pruned by age, oldest first, like reports and trust events.
CREATE INDEX IF NOT EXISTS key_releases_at ON key_releases(at);
