-- A cluster's certificate is renewed with itself (POST /v1/cluster/certificate). The
-- certificate it renewed stays valid until the new one is first used, so a controller
-- that dies before it has stored the new certificate is not locked out: it starts again
-- with the old one and renews again.
ALTER TABLE hub_clusters ADD COLUMN prev_cert_serial TEXT;
