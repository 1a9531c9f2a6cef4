-- test/suites/sharding/coordinator.sql: the coordinator's side of a two-shard archive, in a
-- database that has the archive and postgres_fdw extensions. psql variables: host1, port1,
-- host2, port2 (the shards' socket folders and ports) and db (the database on each shard).
-- fdw_tuple_cost 0.2 (PostgreSQL 17's default; 15 has 0.01) makes rows that cross the network
-- cost what they do, so that the planner prefers the plans that aggregate on the shards.
--   posts, topic_posts   partitioned by hash (home, topic), one foreign partition per shard
--   archive_summaries    the shards' archive_summary views, one row per shard
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'host1', port :'port1', dbname :'db',
             extensions 'archive', async_capable 'true', fdw_tuple_cost '0.2',
             fetch_size '10000', batch_size '1000');
CREATE SERVER shard2 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'host2', port :'port2', dbname :'db',
             extensions 'archive', async_capable 'true', fdw_tuple_cost '0.2',
             fetch_size '10000', batch_size '1000');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard1 OPTIONS (user 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard2 OPTIONS (user 'postgres');

CREATE TABLE posts (
    key text NOT NULL,
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
) PARTITION BY HASH (home);
CREATE FOREIGN TABLE posts_1 PARTITION OF posts FOR VALUES WITH (MODULUS 2, REMAINDER 0)
    SERVER shard1 OPTIONS (table_name 'posts');
CREATE FOREIGN TABLE posts_2 PARTITION OF posts FOR VALUES WITH (MODULUS 2, REMAINDER 1)
    SERVER shard2 OPTIONS (table_name 'posts');

CREATE TABLE topic_posts (
    topic text NOT NULL,
    key text NOT NULL,
    title text,
    published_at timestamptz,
    tags text[] NOT NULL
) PARTITION BY HASH (topic);
CREATE FOREIGN TABLE topic_posts_1 PARTITION OF topic_posts FOR VALUES WITH (MODULUS 2, REMAINDER 0)
    SERVER shard1 OPTIONS (table_name 'topic_posts');
CREATE FOREIGN TABLE topic_posts_2 PARTITION OF topic_posts FOR VALUES WITH (MODULUS 2, REMAINDER 1)
    SERVER shard2 OPTIONS (table_name 'topic_posts');

CREATE FOREIGN TABLE archive_summary_1 (posts bigint, span archive.span, tags archive.termcounts,
                                        titles archive.termcounts)
    SERVER shard1 OPTIONS (table_name 'archive_summary');
CREATE FOREIGN TABLE archive_summary_2 (posts bigint, span archive.span, tags archive.termcounts,
                                        titles archive.termcounts)
    SERVER shard2 OPTIONS (table_name 'archive_summary');
CREATE VIEW archive_summaries AS
SELECT * FROM archive_summary_1
UNION ALL
SELECT * FROM archive_summary_2;

-- The one-server copy of the same archive, for comparison: plain local tables.
CREATE SCHEMA single;
CREATE TABLE single.posts (LIKE posts);
CREATE TABLE single.topic_posts (LIKE topic_posts);
