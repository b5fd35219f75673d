-- The PostgreSQL twin of migrations/sqlite/0015_image_orgs.sql: which organisations
-- submitted each stored image inventory (crates/server/src/images).
--
-- image: the inventory's key, its manifest digest (else `source:reference`).
-- generation: the vulnerability database generation in use when the organisation
-- submitted it (0: stored before organisations divided images); rescans at later
-- generations included it.
-- reference: the image's reference as this organisation's latest submission named it
-- (the inventory store keeps one reference per image: the organisation sees its own).
CREATE TABLE image_orgs (
    image      TEXT NOT NULL,
    org        TEXT NOT NULL REFERENCES organisations(id),
    generation BIGINT NOT NULL,
    reference  TEXT NOT NULL,
    PRIMARY KEY (image, org)
);
CREATE INDEX image_orgs_org ON image_orgs(org);
