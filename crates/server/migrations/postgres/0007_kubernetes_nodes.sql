-- The PostgreSQL twin of migrations/sqlite/0007_kubernetes_nodes.sql: the Kubernetes
-- Node each host is bound to, as an administrator stated it (PUT /v1/hosts/{id}/node);
-- never inferred from a name or a UUID the node reports. A Node name is bound to at
-- most one host; unbound hosts (NULL) are many (NULLs are distinct in a unique index).
ALTER TABLE hosts ADD COLUMN k8s_node TEXT;
CREATE UNIQUE INDEX hosts_k8s_node ON hosts(k8s_node);
