-- Which organisations submitted each stored image inventory (crates/server/src/images).
-- An image's inventory is the same for everyone who uses it, so it is stored once (in the
-- inventory store beside the service's data) and these rows decide who sees it: an
-- organisation sees an image's summary and rescans only once it submitted it.
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
    generation INTEGER NOT NULL,
    reference  TEXT NOT NULL,
    PRIMARY KEY (image, org)
);
CREATE INDEX image_orgs_org ON image_orgs(org);
