-- The PostgreSQL twin of migrations/sqlite/0011_kubelet_facts.sql: the kubelet's
-- podPidsLimit the host's agent sent with its latest accepted evidence (read from the
-- node's kubelet config file; NULL: none sent). A conformance fact for the node-pid-limit
-- policy: the quote does not cover it, and it never changes a verdict.
ALTER TABLE hosts ADD COLUMN kubelet_pod_pids_limit BIGINT;
