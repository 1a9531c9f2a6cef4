-- test/suites/sharding/shard.sql: the tables of one shard (run in a database that has the
-- archive extension). The coordinator sees them as foreign partitions; doc/sharding.md explains.
--   posts            every post once, on the shard its home (first normalised tag, '' for none)
--                    hashes to; the source of archive-wide figures and of the topic pages
--   topic_posts      one row per public post and topic it belongs to (the memberships, with the
--                    post columns the figures read), on the shard its topic hashes to
--   archive_summary  a view: this shard's archive-wide summaries, one row
--   route            an empty table hash-partitioned like the coordinator's tables, only there
--                    so that satisfies_hash_partition() can tell which rows belong to this shard
CREATE TABLE posts (
    key text PRIMARY KEY,
    home text NOT NULL,
    url text,
    slug text,
    title text,
    summary text,
    published_at timestamptz,
    tags text[] NOT NULL DEFAULT '{}',
    authors text[] NOT NULL DEFAULT '{}',
    body_markdown text,
    visibility archive.visibility NOT NULL DEFAULT 'public'
);

CREATE TABLE topic_posts (
    topic text NOT NULL,
    key text NOT NULL,
    title text,
    published_at timestamptz,
    tags text[] NOT NULL,
    PRIMARY KEY (topic, key)
);

CREATE VIEW archive_summary AS
SELECT count(*) AS posts,
       archive.topic_span(published_at) AS span,
       archive.tag_counts_agg(tags) AS tags,
       archive.title_terms_agg(title) AS titles
FROM posts
WHERE visibility = 'public';

CREATE TABLE route (k text) PARTITION BY HASH (k);
